package io.wharf.sources.spi;

import java.time.Clock;
import java.util.function.Function;

import io.wharf.secrets.SealedSecrets;
import io.wharf.serde.SchemaRegistryClient;

/**
 * What the sources role gives each trigger's run, whatever its source: its Kafka clients, the registry, the largest
 * payload an event and a dead letter may carry, a clock, where to tell what it committed, each function's payload key
 * (to seal events to), and the role's secrets keys (to open a source's sealed password; null when it has none).
 */
public record TriggerParts(TriggerClients clients, SchemaRegistryClient registry, int payloadBudget, int deadLetterBudget, Clock clock,
                           Outcomes outcomes, Function<String, String> payloadKeys, SealedSecrets secrets) {

    /** Told what each commit carried: the role's meters. */
    public interface Outcomes {
        void committed(String trigger, int records, int events, int deadLettered);

        void aborted(String trigger);
    }
}
