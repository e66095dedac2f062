package io.wharf.dispatcher;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

import io.wharf.dispatcher.internals.EventProcessor;
import io.wharf.dispatcher.internals.FunctionRegistryProcessor;
import io.wharf.records.DeadLetter;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * The dispatcher's Kafka Streams topology. {@code wharf.functions} and {@code wharf.events} are read by the
 * same sub-topology (they share the function store), so both must have the same partition count and the same
 * key (the function name): one task then owns a function's spec and every event for it, and Streams
 * processes them in timestamp order, so an event produced after a deploy sees that deploy.
 */
public final class DispatcherTopology {
    public static final String FUNCTION_STORE = "functions";

    static final String EVENTS_SOURCE = "events";
    static final String FUNCTIONS_SOURCE = "functions-source";
    static final String FUNCTIONS_PROCESSOR = "function-registry";
    static final String EVENTS_PROCESSOR = "dispatch";
    public static final String JOBS_SINK = "jobs";
    public static final String RESULTS_SINK = "results";
    public static final String DLQ_SINK = "dlq";
    public static final String REKEY_SINK = "rekey";

    private DispatcherTopology() {
    }

    /** Builds the topology. Time comes from Streams' wall clock, so TopologyTestDriver can move it. */
    public static Topology build(SchemaRegistryClient registry) {
        Topology topology = new Topology();
        StoreBuilder<KeyValueStore<String, byte[]>> functions = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(FUNCTION_STORE), Serdes.String(), Serdes.ByteArray());

        topology.addSource(FUNCTIONS_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.FUNCTIONS);
        topology.addSource(EVENTS_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), Topics.EVENTS);

        topology.addProcessor(FUNCTIONS_PROCESSOR, () -> new FunctionRegistryProcessor(registry), FUNCTIONS_SOURCE);
        topology.addProcessor(EVENTS_PROCESSOR, () -> new EventProcessor(registry), EVENTS_SOURCE);
        topology.addStateStore(functions, FUNCTIONS_PROCESSOR, EVENTS_PROCESSOR);

        topology.addSink(JOBS_SINK, (key, value, context) -> Topics.jobs(((Job) value).getFunction().getPool()),
                new StringSerializer(), new AvroSerializer<Job>(registry), EVENTS_PROCESSOR);
        topology.addSink(RESULTS_SINK, Topics.RESULTS, new StringSerializer(), new AvroSerializer<JobResult>(registry),
                EVENTS_PROCESSOR);
        topology.addSink(DLQ_SINK, Topics.DLQ, new StringSerializer(), new AvroSerializer<DeadLetter>(registry),
                EVENTS_PROCESSOR, FUNCTIONS_PROCESSOR);
        topology.addSink(REKEY_SINK, Topics.EVENTS, new StringSerializer(), new ByteArraySerializer(), EVENTS_PROCESSOR);
        return topology;
    }
}
