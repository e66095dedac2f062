package io.wharf.dispatcher.internals;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.TenantSpec;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * Tenants' limits, read from the global {@code tenants} store (every instance has all of {@code wharf.tenants}):
 * the function stage asks whether a job must pass its tenant's stage, the tenant stage what the limits are. A
 * change applies as soon as the instance's global thread has read it.
 */
public final class TenantLimits {
    private final AvroDeserializer<TenantSpec> deserializer;
    private final KeyValueStore<String, byte[]> store;
    private final Map<String, Map.Entry<byte[], LimitState.Limits>> decoded = new HashMap<>();

    TenantLimits(SchemaRegistryClient registry, KeyValueStore<String, byte[]> store) {
        this.deserializer = new AvroDeserializer<>(registry, TenantSpec.class);
        this.store = store;
    }

    /** The tenant's limits, or null when it has none. */
    LimitState.Limits limits(String tenant) {
        byte[] bytes = tenant == null ? null : store.get(tenant);
        if (bytes == null) {
            return null;
        }
        Map.Entry<byte[], LimitState.Limits> cached = decoded.get(tenant);
        if (cached == null || !Arrays.equals(cached.getKey(), bytes)) {
            LimitState.Limits limits;
            try {
                limits = LimitState.Limits.of(deserializer.deserialize(Topics.TENANTS, bytes));
            } catch (RuntimeException e) {
                limits = null; // refused by the global store's processor already; never stored
            }
            cached = Map.entry(bytes, limits == null || !limits.any() ? NONE : limits);
            decoded.put(tenant, cached);
        }
        return cached.getValue() == NONE ? null : cached.getValue();
    }

    boolean limited(String tenant) {
        return limits(tenant) != null;
    }

    private static final LimitState.Limits NONE = new LimitState.Limits(null, null, Integer.MAX_VALUE);

    /** Keeps the global store in step with {@code wharf.tenants}; records that do not decode are skipped with a warning. */
    public static final class GlobalUpdater implements Processor<String, byte[], Void, Void> {
        private static final Logger log = LoggerFactory.getLogger(GlobalUpdater.class);
        private final AvroDeserializer<TenantSpec> deserializer;
        private KeyValueStore<String, byte[]> store;

        public GlobalUpdater(SchemaRegistryClient registry) {
            this.deserializer = new AvroDeserializer<>(registry, TenantSpec.class);
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            this.store = context.getStateStore(Names.TENANTS_STORE);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            if (record.key() == null) {
                log.warn("A {} record has no key (the tenant name): skipped", Topics.TENANTS);
                return;
            }
            if (record.value() == null) {
                store.delete(record.key());
                log.info("Tenant {}: limits removed", record.key());
                return;
            }
            try {
                TenantSpec spec = deserializer.deserialize(Topics.TENANTS, record.value());
                if (!record.key().equals(spec.getName())) {
                    throw new IllegalArgumentException("keyed '" + record.key() + "' but names tenant '" + spec.getName() + "'");
                }
                store.put(record.key(), record.value());
                log.info("Tenant {}: rate {}, concurrency {}, backlog {}", spec.getName(), spec.getRateLimit(), spec.getMaxConcurrency(),
                        spec.getMaxPending());
            } catch (RuntimeException e) {
                log.warn("Tenant record for '{}' refused, the previous limits stay: {}", record.key(), e.getMessage());
            }
        }
    }
}
