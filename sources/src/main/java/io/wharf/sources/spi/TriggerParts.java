package io.wharf.sources.spi;

import java.time.Clock;
import java.util.function.Function;

import io.wharf.records.FunctionSpec;
import io.wharf.secrets.SealedSecrets;
import io.wharf.serde.SchemaRegistryClient;

/**
 * What the sources role gives each trigger's run, whatever its source: its Kafka clients, the registry, the largest
 * payload an event and a dead letter may carry, a clock, where to tell what it committed, the functions as this
 * instance knows them (their payload keys, to seal events to; their payload limits), and the role's secrets keys (to open a source's sealed password; null when it has none).
 */
public record TriggerParts(TriggerClients clients, SchemaRegistryClient registry, int payloadBudget, int deadLetterBudget, Clock clock,
                           Outcomes outcomes, Function<String, FunctionSpec> functions, SealedSecrets secrets) {

    /** The function's payload key (PEM), to seal its events to; null for none, or an unknown function. */
    public String payloadKey(String function) {
        FunctionSpec spec = functions.apply(function);
        return spec == null ? null : spec.getPayloadKey();
    }

    /** Told what each commit carried: the role's meters. */
    public interface Outcomes {
        void committed(String trigger, int records, int events, int deadLettered);

        void aborted(String trigger);
    }
}
