package io.wharf.dispatcher;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.wharf.dispatcher.internals.DispatcherMeters;
import io.wharf.dispatcher.internals.MeterTap;
import io.wharf.dispatcher.internals.DispatchProcessor;
import io.wharf.dispatcher.internals.FunctionRegistryProcessor;
import io.wharf.dispatcher.internals.JobWriter;
import io.wharf.dispatcher.internals.Names;
import io.wharf.dispatcher.internals.Placement;
import io.wharf.dispatcher.internals.ScheduleProcessor;
import io.wharf.dispatcher.internals.StatusTap;
import io.wharf.dispatcher.internals.TenantLimits;
import io.wharf.dispatcher.internals.TenantProcessor;
import io.wharf.records.Attempt;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;

/**
 * The dispatcher's Kafka Streams topology, two sub-topologies:
 * <ul>
 * <li>{@code wharf.functions}, {@code wharf.events} and {@code wharf.attempts}, all keyed by function name and
 * co-partitioned (same partition count), feed one task per partition: it owns a function's spec, every event
 * and every attempt report of it, and so its token bucket, in-flight count, pending queue and timers.
 * Streams processes the inputs in timestamp order, so an event produced after a deploy sees that deploy.</li>
 * <li>{@code wharf.dispatch.tenants} (keyed by tenant): jobs of tenants with limits, after their function's
 * limits, and notices of their end; one task owns each tenant's counts. Tenants' limits come from the global
 * {@code tenants} store ({@code wharf.tenants}).</li>
 * <li>{@code wharf.schedules} (keyed by schedule id) fires scheduled events into {@code wharf.events}.</li>
 * </ul>
 * A keyed input record found on another partition than its key's is first moved there ({@link Placement}).
 */
public final class DispatcherTopology {
    /** How often timers are checked and pending jobs released, by default. */
    public static final Duration DEFAULT_TICK = Duration.ofMillis(10);

    static final String EVENTS_SOURCE = "events";
    static final String ATTEMPTS_SOURCE = "attempts";
    static final String FUNCTIONS_SOURCE = "functions-source";
    static final String SCHEDULES_SOURCE = "schedules-source";
    static final String FUNCTIONS_PROCESSOR = "function-registry";
    static final String DISPATCH_PROCESSOR = "dispatch";
    static final String SCHEDULE_PROCESSOR = "schedule";
    static final String TENANT_SOURCE = "tenant-admission";
    static final String TENANT_PROCESSOR = "tenant";

    private DispatcherTopology() {
    }

    public static Topology build(SchemaRegistryClient registry) {
        return build(registry, DEFAULT_TICK);
    }

    public static Topology build(SchemaRegistryClient registry, Duration tick) {
        return build(registry, tick, Map.of());
    }

    /**
     * Builds the topology. Time comes from Streams' wall clock, so TopologyTestDriver can move it. {@code partitions}
     * gives the partition count of input topics whose records must sit on their key's partition; a record a
     * client wrote elsewhere is moved there first. Topics it does not name are taken as placed right.
     */
    public static Topology build(SchemaRegistryClient registry, Duration tick, Map<String, Integer> partitions) {
        return build(registry, tick, partitions, new TopicLimits(Map.of(), Topics.MAX_RECORD_BYTES));
    }

    /** As {@link #build(SchemaRegistryClient, Duration, Map)}; jobs are kept within {@code limits} (an event whose job would not fit is refused). */
    public static Topology build(SchemaRegistryClient registry, Duration tick, Map<String, Integer> partitions, TopicLimits limits) {
        return build(registry, tick, partitions, limits, DEFAULT_DEDUPE_WINDOW);
    }

    /** The default of {@code wharf.dispatcher.dedupe.window.ms}. */
    public static final Duration DEFAULT_DEDUPE_WINDOW = Duration.ofMinutes(5);

    /** As above; events re-sent within {@code dedupeWindow} become no second job (zero: no dedupe). */
    public static Topology build(SchemaRegistryClient registry, Duration tick, Map<String, Integer> partitions, TopicLimits limits,
                                 Duration dedupeWindow) {
        return build(registry, tick, partitions, limits, dedupeWindow, new DispatcherMeters(new SimpleMeterRegistry()),
                io.opentelemetry.api.OpenTelemetry.noop().getTracer("io.wharf.dispatcher"));
    }

    /** As above, counting what it writes in {@code meters} and tracing each event's dispatch with {@code tracer}. */
    public static Topology build(SchemaRegistryClient registry, Duration tick, Map<String, Integer> partitions, TopicLimits limits,
                                 Duration dedupeWindow, DispatcherMeters meters, io.opentelemetry.api.trace.Tracer tracer) {
        Placement placement = new Placement(partitions);
        Topology topology = new Topology();
        topology.addSource(FUNCTIONS_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.FUNCTIONS);
        topology.addSource(EVENTS_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.EVENTS);
        topology.addSource(ATTEMPTS_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.ATTEMPTS);

        topology.addProcessor(FUNCTIONS_PROCESSOR, () -> new FunctionRegistryProcessor(registry, placement), FUNCTIONS_SOURCE);
        topology.addProcessor(DISPATCH_PROCESSOR, () -> new DispatchProcessor(registry, tick, placement, limits, dedupeWindow, meters, tracer),
                EVENTS_SOURCE, ATTEMPTS_SOURCE);
        if (!dedupeWindow.isZero()) {
            // In memory like the counters, for the same reason; it holds one window of event keys.
            topology.addStateStore(memoryStore(Names.DEDUPE_STORE), DISPATCH_PROCESSOR);
        }
        // Read on every event. In memory (restored from its changelog: specs are few and small) a lookup hands back
        // the stored array, which SpecCache knows by identity; RocksDB copied it out each time (a seventh of an event's processing).
        topology.addStateStore(memoryStore(Names.FUNCTION_STORE), FUNCTIONS_PROCESSOR, DISPATCH_PROCESSOR);
        // Counters change on every event of a limited function. In memory, restored from their changelog: a
        // RocksDB store flushes its memtable to a new file on every exactly-once commit (measured +10 ms per hop
        // at a 20 ms commit interval). Not cached: a cache writes its changelog records at commit time, which
        // then waits for them (+4 ms); written as they change, they are acknowledged before the commit comes.
        topology.addStateStore(memoryStore(Names.LIMITS_STORE), DISPATCH_PROCESSOR);
        topology.addStateStore(memoryStore(Names.INFLIGHT_STORE), DISPATCH_PROCESSOR);
        topology.addStateStore(store(Names.BATCHES_STORE, true), DISPATCH_PROCESSOR);
        topology.addStateStore(bytesStore(Names.PENDING_STORE), DISPATCH_PROCESSOR);
        topology.addStateStore(bytesStore(Names.TIMERS_STORE), DISPATCH_PROCESSOR);

        Map<String, String> jobTopics = new ConcurrentHashMap<>(); // the pool name check is a regex: once per pool
        topology.addProcessor(Names.JOBS_SINK, () -> new StatusTap(Names.JOBS_OUT), DISPATCH_PROCESSOR);
        topology.addProcessor(Names.RESULTS_SINK, () -> new StatusTap(Names.RESULTS_OUT), DISPATCH_PROCESSOR);
        topology.addSink(Names.JOBS_OUT, (key, value, context) -> jobTopics.computeIfAbsent(((Job) value).getFunction().getPool(), Topics::jobs),
                new StringSerializer(), new AvroSerializer<Job>(registry, JobWriter::new), Names.JOBS_SINK);
        topology.addSink(Names.RESULTS_OUT, Topics.RESULTS, new StringSerializer(), new AvroSerializer<JobResult>(registry), Names.RESULTS_SINK);
        topology.addProcessor(Names.DLQ_SINK, () -> new MeterTap(Names.DLQ_OUT, meters), DISPATCH_PROCESSOR, FUNCTIONS_PROCESSOR);
        topology.addSink(Names.DLQ_OUT, Topics.DLQ, new StringSerializer(), new AvroSerializer<DeadLetter>(registry), Names.DLQ_SINK);
        topology.addSink(Names.REKEY_SINK, Topics.EVENTS, new StringSerializer(), new ByteArraySerializer(), Placement.partitioner(), DISPATCH_PROCESSOR);
        topology.addSink(Names.FUNCTIONS_REROUTE_SINK, Topics.FUNCTIONS, new StringSerializer(), new ByteArraySerializer(), Placement.partitioner(),
                FUNCTIONS_PROCESSOR);
        topology.addSink(Names.EVENTS_SINK, Topics.EVENTS, new StringSerializer(), new AvroSerializer<Event>(registry), DISPATCH_PROCESSOR);

        topology.addSink(Names.TENANT_SINK, Topics.TENANT_ADMISSION, new StringSerializer(), new ByteArraySerializer(), DISPATCH_PROCESSOR);

        topology.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(Names.TENANTS_STORE), Serdes.String(), Serdes.ByteArray())
                        .withLoggingDisabled(), "tenants-source", new StringDeserializer(), new ByteArrayDeserializer(), Topics.TENANTS,
                "tenants-global", () -> new TenantLimits.GlobalUpdater(registry));

        topology.addSource(TENANT_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.TENANT_ADMISSION);
        topology.addProcessor(TENANT_PROCESSOR, () -> new TenantProcessor(registry, tick, limits, meters), TENANT_SOURCE);
        topology.addStateStore(memoryStore(Names.TENANT_LIMITS_STORE), TENANT_PROCESSOR);
        topology.addStateStore(memoryStore(Names.TENANT_INFLIGHT_STORE), TENANT_PROCESSOR);
        topology.addStateStore(bytesStore(Names.TENANT_PENDING_STORE), TENANT_PROCESSOR);
        topology.addStateStore(bytesStore(Names.TENANT_TIMERS_STORE), TENANT_PROCESSOR);
        topology.addProcessor(Names.TENANT_JOBS_SINK, () -> new StatusTap(Names.TENANT_JOBS_OUT), TENANT_PROCESSOR);
        topology.addProcessor(Names.TENANT_RESULTS_SINK, () -> new StatusTap(Names.TENANT_RESULTS_OUT), TENANT_PROCESSOR);
        topology.addSink(Names.TENANT_JOBS_OUT, (key, value, context) -> jobTopics.computeIfAbsent(((Job) value).getFunction().getPool(), Topics::jobs),
                new StringSerializer(), new AvroSerializer<Job>(registry, JobWriter::new), Names.TENANT_JOBS_SINK);
        topology.addSink(Names.TENANT_RESULTS_OUT, Topics.RESULTS, new StringSerializer(), new AvroSerializer<JobResult>(registry), Names.TENANT_RESULTS_SINK);
        topology.addProcessor(Names.STATUS_SINK, () -> new MeterTap(Names.STATUS_OUT, meters), DISPATCH_PROCESSOR,
                Names.JOBS_SINK, Names.RESULTS_SINK, Names.TENANT_JOBS_SINK, Names.TENANT_RESULTS_SINK);
        topology.addSink(Names.STATUS_OUT, Topics.STATUS, new StringSerializer(), new AvroSerializer<JobState>(registry), Names.STATUS_SINK);
        topology.addSink(Names.TENANT_ATTEMPTS_SINK, Topics.ATTEMPTS, new StringSerializer(), new AvroSerializer<Attempt>(registry), TENANT_PROCESSOR);
        topology.addProcessor(Names.TENANT_DLQ_SINK, () -> new MeterTap(Names.TENANT_DLQ_OUT, meters), TENANT_PROCESSOR);
        topology.addSink(Names.TENANT_DLQ_OUT, Topics.DLQ, new StringSerializer(), new AvroSerializer<DeadLetter>(registry), Names.TENANT_DLQ_SINK);

        topology.addSource(SCHEDULES_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.SCHEDULES);
        topology.addProcessor(SCHEDULE_PROCESSOR, () -> new ScheduleProcessor(registry, tick, placement, meters), SCHEDULES_SOURCE);
        topology.addStateStore(store(Names.SCHEDULES_STORE, false), SCHEDULE_PROCESSOR);
        topology.addStateStore(store(Names.SCHEDULE_STATE_STORE, false), SCHEDULE_PROCESSOR);
        topology.addStateStore(bytesStore(Names.SCHEDULE_TIMERS_STORE), SCHEDULE_PROCESSOR);
        topology.addSink(Names.SCHEDULED_EVENTS_SINK, Topics.EVENTS, new StringSerializer(), new AvroSerializer<Event>(registry), SCHEDULE_PROCESSOR);
        topology.addSink(Names.SCHEDULES_REROUTE_SINK, Topics.SCHEDULES, new StringSerializer(), new ByteArraySerializer(), Placement.partitioner(),
                SCHEDULE_PROCESSOR);
        topology.addProcessor(Names.SCHEDULE_DLQ_SINK, () -> new MeterTap(Names.SCHEDULE_DLQ_OUT, meters), SCHEDULE_PROCESSOR);
        topology.addSink(Names.SCHEDULE_DLQ_OUT, Topics.DLQ, new StringSerializer(), new AvroSerializer<DeadLetter>(registry), Names.SCHEDULE_DLQ_SINK);
        return topology;
    }

    private static StoreBuilder<KeyValueStore<String, byte[]>> store(String name, boolean cached) {
        StoreBuilder<KeyValueStore<String, byte[]>> builder = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(name), Serdes.String(), Serdes.ByteArray());
        return cached ? builder.withCachingEnabled() : builder.withCachingDisabled();
    }

    private static StoreBuilder<KeyValueStore<String, byte[]>> memoryStore(String name) {
        return Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.String(), Serdes.ByteArray()).withCachingDisabled();
    }

    /** Ordered binary keys (big-endian due times, priorities): range scans return them in order. */
    private static StoreBuilder<KeyValueStore<Bytes, byte[]>> bytesStore(String name) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.Bytes(), Serdes.ByteArray()).withCachingDisabled();
    }
}
