package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.DeadLetter;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroDeserializer;
import io.wharf.topics.Topics;

/** A worker that cannot reach the schema registry holds its jobs until it can, instead of dead-lettering them. */
class RegistryOutageIT {
    private WorkerHarness harness;
    private TcpSwitch registrySwitch;

    @BeforeEach
    void setUp() throws Exception {
        harness = new WorkerHarness(1);
        URI registry = URI.create(harness.registry.url());
        registrySwitch = new TcpSwitch(registry.getHost(), registry.getPort());
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
        registrySwitch.close();
    }

    @Test
    void jobsWaitForAnUnreachableRegistryAndRunInOrderOnceItAnswers() {
        String url = "http://127.0.0.1:" + registrySwitch.port() + URI.create(harness.registry.url()).getPath();
        harness.startWorker("w-outage", 2, Map.of(WorkerConfig.REGISTRY_URL_CONFIG, url));
        FunctionSpec fn = harness.function(harness.pool + "-echo").setCommand(List.of("cat")).build();
        harness.submit(harness.job("outage-1", fn, "one".getBytes(StandardCharsets.UTF_8)));
        harness.submit(harness.job("outage-2", fn, "two".getBytes(StandardCharsets.UTF_8)));

        // The worker asks for the jobs' schema at least twice (a first try and a retry) while the registry is away.
        await().atMost(Duration.ofSeconds(30)).until(() -> registrySwitch.refused() >= 2);
        registrySwitch.turn(true);

        assertThat(harness.awaitResult("outage-1", Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(harness.awaitResult("outage-2", Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(deadLettersFrom(Topics.jobs(harness.pool))).as("dead letters from the outage").isEmpty();
    }

    /** Every dead letter on the topic so far whose record came from {@code topic}. */
    private List<DeadLetter> deadLettersFrom(String topic) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, harness.kafka.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<DeadLetter> out = new ArrayList<>();
        try (KafkaConsumer<String, DeadLetter> dlq = new KafkaConsumer<>(c, new StringDeserializer(),
                new AvroDeserializer<>(harness.registry, DeadLetter.class))) {
            List<TopicPartition> partitions = dlq.partitionsFor(Topics.DLQ).stream().map(p -> new TopicPartition(Topics.DLQ, p.partition())).toList();
            dlq.assign(partitions);
            dlq.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = dlq.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> dlq.position(p) < end.get(p))) {
                for (ConsumerRecord<String, DeadLetter> r : dlq.poll(Duration.ofMillis(200))) {
                    if (topic.equals(String.valueOf(r.value().getSourceTopic()))) {
                        out.add(r.value());
                    }
                }
            }
        }
        return out;
    }
}
