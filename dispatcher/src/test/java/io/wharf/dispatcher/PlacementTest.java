package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.InMemorySchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * Records a client put on another partition than their key's are moved there once. The driver delivers every
 * input on partition 0, so with four partitions a name that belongs elsewhere arrives misplaced, is moved, and
 * (the driver feeding the moved record back on partition 0) is handled where it lands instead of moved again.
 */
class PlacementTest {
    private static final int PARTITIONS = 4;
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private TopologyTestDriver driver;
    private TestInputTopic<String, FunctionSpec> functions;
    private TestInputTopic<String, Event> events;
    private TestOutputTopic<String, byte[]> movedEvents;
    private TestOutputTopic<String, byte[]> movedFunctions;
    private TestOutputTopic<String, Job> jobs;
    private TestOutputTopic<String, JobResult> results;

    @BeforeEach
    void setUp() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "placement-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        Map<String, Integer> partitions = Map.of(Topics.FUNCTIONS, PARTITIONS, Topics.EVENTS, PARTITIONS, Topics.ATTEMPTS, PARTITIONS);
        driver = new TopologyTestDriver(DispatcherTopology.build(registry, DispatcherTopology.DEFAULT_TICK, partitions), props);
        functions = driver.createInputTopic(Topics.FUNCTIONS, new StringSerializer(), new AvroSerializer<>(registry));
        events = driver.createInputTopic(Topics.EVENTS, new StringSerializer(), new AvroSerializer<>(registry));
        movedEvents = driver.createOutputTopic(Topics.EVENTS, new StringDeserializer(), new ByteArrayDeserializer());
        movedFunctions = driver.createOutputTopic(Topics.FUNCTIONS, new StringDeserializer(), new ByteArrayDeserializer());
        jobs = driver.createOutputTopic(Topics.jobs("default"), new StringDeserializer(), new AvroDeserializer<>(registry, Job.class));
        results = driver.createOutputTopic(Topics.RESULTS, new StringDeserializer(), new AvroDeserializer<>(registry, JobResult.class));
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private static String nameOnPartition(boolean zero) {
        return IntStream.range(0, 100).mapToObj(i -> "fn-" + i)
                .filter(name -> (Topics.partitionOf(name, PARTITIONS) == 0) == zero).findFirst().orElseThrow();
    }

    private static String header(TestRecord<String, byte[]> record) {
        var header = record.headers().lastHeader(Topics.REROUTED_HEADER);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Test
    void shouldDispatchAnEventOnItsFunctionsPartitionWithoutMovingIt() {
        String name = nameOnPartition(true);
        functions.pipeInput(name, DispatcherTopologyTest.function(name));
        events.pipeInput(name, DispatcherTopologyTest.event("job-1", name, "x"));

        assertThat(jobs.readValuesToList()).extracting(Job::getJobId).containsExactly("job-1");
        assertThat(movedEvents.isEmpty()).isTrue();
        assertThat(movedFunctions.isEmpty()).isTrue();
    }

    @Test
    void shouldMoveAMisplacedFunctionAndEventToTheirPartitionAndDispatchOnce() {
        String name = nameOnPartition(false);
        functions.pipeInput(name, DispatcherTopologyTest.function(name));
        events.pipeInput(name, DispatcherTopologyTest.event("job-2", name, "x"));

        TestRecord<String, byte[]> function = movedFunctions.readRecord();
        assertThat(function.key()).isEqualTo(name);
        assertThat(header(function)).isEqualTo(Topics.FUNCTIONS + "-0@0");
        TestRecord<String, byte[]> event = movedEvents.readRecord();
        assertThat(event.key()).isEqualTo(name);
        assertThat(header(event)).startsWith(Topics.EVENTS + "-0@");
        assertThat(movedEvents.isEmpty()).as("moved once, not again").isTrue();
        assertThat(jobs.readValuesToList()).extracting(Job::getJobId).containsExactly("job-2");
        assertThat(results.isEmpty()).isTrue();
    }

    @Test
    void shouldMoveAKeylessEventByTheFunctionItNames() {
        String name = nameOnPartition(true);
        functions.pipeInput(name, DispatcherTopologyTest.function(name));
        events.pipeInput((String) null, DispatcherTopologyTest.event("job-3", name, "x"));

        TestRecord<String, byte[]> event = movedEvents.readRecord();
        assertThat(event.key()).isEqualTo(name);
        assertThat(jobs.readValuesToList()).extracting(Job::getJobId).containsExactly("job-3");
    }
}
