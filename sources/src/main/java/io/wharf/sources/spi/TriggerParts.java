package io.wharf.sources.spi;

import java.time.Clock;
import java.util.function.Function;

import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.secrets.SealedSecrets;
import io.wharf.serde.SchemaRegistryClient;

/**
 * What the sources role gives each trigger's run, whatever its source: its Kafka clients, the registry, the largest
 * payload an event and a dead letter may carry, a clock, where to tell what it committed, the functions as this
 * instance knows them (their payload keys, to seal events to; their payload limits), and the role's secrets keys (to open a source's sealed password; null when it has none).
 */
public record TriggerParts(TriggerClients clients, SchemaRegistryClient registry, int payloadBudget, int deadLetterBudget, Clock clock,
                           Outcomes outcomes, Function<String, FunctionSpec> functions, SealedSecrets secrets) {

    /** {@code event} sealed to its function's payload key, if it has one: a source's data reaches Kafka again only as ciphertext. */
    public Event sealed(Event event) {
        FunctionSpec spec = functions.apply(event.getFunction());
        return spec == null || spec.getPayloadKey() == null ? event
                : PayloadEnvelope.sealed(event, KEYS.computeIfAbsent(spec.getPayloadKey(), PayloadEnvelope::publicKey));
    }

    /** Parsed payload keys by their PEM: a key is parsed once, not per event. */
    private static final java.util.Map<String, java.security.interfaces.RSAPublicKey> KEYS = new java.util.concurrent.ConcurrentHashMap<>();

    /** Told what each commit carried: the role's meters. */
    public interface Outcomes {
        void committed(String trigger, int records, int events, int deadLettered);

        void aborted(String trigger);
    }
}
