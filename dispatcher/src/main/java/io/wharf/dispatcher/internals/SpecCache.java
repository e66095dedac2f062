package io.wharf.dispatcher.internals;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.streams.state.KeyValueStore;

import io.wharf.records.FunctionSpec;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * Reads function specs from the task's {@code functions} store, keeping the last decoded spec per function
 * while its stored bytes are unchanged: decoding is the costly part, the store lookup is cheap, and comparing
 * bytes means an update is seen by the very next event.
 */
final class SpecCache {
    private final AvroDeserializer<FunctionSpec> specs;
    private final Map<String, Map.Entry<byte[], FunctionSpec>> decoded = new HashMap<>();
    private KeyValueStore<String, byte[]> store;

    SpecCache(SchemaRegistryClient registry) {
        this.specs = new AvroDeserializer<>(registry, FunctionSpec.class);
    }

    void init(KeyValueStore<String, byte[]> store) {
        this.store = store;
    }

    /** The function's current spec, or null when it is not deployed. */
    FunctionSpec get(String function) {
        byte[] bytes = store.get(function);
        if (bytes == null) {
            decoded.remove(function);
            return null;
        }
        Map.Entry<byte[], FunctionSpec> cached = decoded.get(function);
        if (cached != null && Arrays.equals(cached.getKey(), bytes)) {
            return cached.getValue();
        }
        FunctionSpec spec = specs.deserialize(Topics.FUNCTIONS, bytes);
        if (decoded.size() > 10_000) {
            decoded.clear();
        }
        decoded.put(function, Map.entry(bytes, spec));
        return spec;
    }
}
