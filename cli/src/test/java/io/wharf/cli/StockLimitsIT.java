package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.DockerClient;

import io.wharf.client.WharfClient;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.LocalImages;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.testkit.SharedServices;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;
import io.wharf.worker.DockerEngine;

/**
 * Wharf on a broker with Kafka's default limits and topics an operator created without a record limit of their own
 * (so 1 MiB): records near the limit neither wedge the worker nor make the dispatcher replay an event forever.
 */
class StockLimitsIT {
    private static EmbeddedKafka kafka;
    private static RolesOn roles;
    private static WharfClient client;

    @BeforeAll
    static void start() throws Exception {
        try (DockerClient docker = DockerEngine.client()) {
            LocalImages.busybox(docker);
        }
        kafka = EmbeddedKafka.startStock();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            // As an operator might: Wharf's topics, without Wharf's max.message.bytes.
            List<NewTopic> plain = Topics.core(2, (short) 1, List.of(Topics.DEFAULT_POOL)).stream()
                    .map(t -> new NewTopic(t.name(), t.numPartitions(), (short) 1).configs(withoutLimit(t.configs()))).toList();
            Topics.ensure(admin, plain);
        }
        roles = RolesOn.start(kafka.bootstrapServers(), "stock");
        client = roles.client;
    }

    private static Map<String, String> withoutLimit(Map<String, String> configs) {
        Map<String, String> copy = new java.util.HashMap<>(configs);
        copy.remove("max.message.bytes");
        return copy;
    }

    @AfterAll
    static void stop() {
        if (roles != null) {
            roles.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static String deploy(String script) {
        return deploy(script, Map.of());
    }

    private static String deploy(String script, Map<String, String> env) {
        String name = "stock-" + UUID.randomUUID().toString().substring(0, 8);
        client.deploy(FunctionSpec.newBuilder().setName(name).setImage(LocalImages.BUSYBOX).setMemoryMb(64).setTimeoutMillis(30_000)
                .setCommand(List.of("sh", "-c", script)).setEnv(env).build());
        return name;
    }

    private static JobResult invoke(String function, byte[] payload) throws Exception {
        Event event = client.event(function, payload, "application/octet-stream");
        return client.invoke(event, Duration.ofSeconds(90));
    }

    @Test
    void aJobPrintingTwoMebibytesGetsOneTruncatedResultAndTheNextJobCompletes() throws Exception {
        String big = deploy("head -c 2097152 /dev/zero");
        JobResult result = invoke(big, new byte[0]);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(result.getBodyTruncated()).isTrue();
        assertThat(result.getBody().remaining()).isBetween(900_000, TopicLimits.KAFKA_DEFAULT);

        String echo = deploy("cat");
        JobResult next = invoke(echo, "next".getBytes(StandardCharsets.UTF_8));
        assertThat(next.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(StandardCharsets.UTF_8.decode(next.getBody()).toString()).isEqualTo("next");
    }

    @Test
    void anEventWhoseJobWouldNotFitIsRejectedWithADeadLetterAndTheNextEventIsDispatched() throws Exception {
        // Every job carries its function: with a 12 KiB environment, a 1,040,000-byte payload makes a job over 1 MiB.
        String echo = deploy("cat", Map.of("CONFIG", "x".repeat(12 * 1024)));
        Event event = client.event(echo, new byte[1_040_000], "application/octet-stream");
        JobResult refused = client.invoke(event, Duration.ofSeconds(90));
        assertThat(refused.getStatus()).isEqualTo(JobStatus.REJECTED);
        assertThat(refused.getError()).contains("max.message.bytes").contains(Topics.jobs(Topics.DEFAULT_POOL));
        assertThat(deadLetter(event.getId()).getReason()).contains("max.message.bytes");

        JobResult next = invoke(echo, "after".getBytes(StandardCharsets.UTF_8));
        assertThat(next.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
    }

    private static DeadLetter deadLetter(String id) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "stock-dlq-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        AvroDeserializer<DeadLetter> letters = new AvroDeserializer<>(new HttpSchemaRegistryClient(SharedServices.registry().confluentUrl()),
                DeadLetter.class);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.DLQ));
            DeadLetter[] found = new DeadLetter[1];
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (id.equals(r.key())) {
                        found[0] = letters.deserialize(Topics.DLQ, r.value());
                    }
                });
                return found[0] != null;
            });
            return found[0];
        }
    }
}
