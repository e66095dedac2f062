package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.DockerClient;

import io.wharf.embedded.LocalImages;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.secrets.SealedSecrets;
import io.wharf.testkit.SharedServices;
import io.wharf.topics.Topics;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.WorkerConfig;

/**
 * Secret environment end to end: sealed by {@code wharf deploy}, opened by the worker, never in Kafka in clear, and
 * re-sealed by {@code wharf secrets rotate} while jobs keep running on workers that hold the old and the new key.
 */
class SecretsIT {
    private static final String OLD_KEY = SealedSecrets.newKey();
    private static final String NEW_KEY = SealedSecrets.newKey();
    private static RolesOn roles;

    @BeforeAll
    static void start() throws Exception {
        try (DockerClient docker = DockerEngine.client()) {
            LocalImages.busybox(docker);
        }
        String bootstrap = SharedServices.kafka().bootstrapServers();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Topics.ensure(admin, Topics.core(4, (short) 1, List.of(Topics.DEFAULT_POOL)));
        }
        // Step one of a rotation: workers get the new key beside the old one.
        roles = RolesOn.start(bootstrap, "secrets", Map.of(WorkerConfig.SECRETS_KEY_CONFIG, OLD_KEY + "," + NEW_KEY));
    }

    @AfterAll
    static void stop() {
        Wharf.environment = System.getenv();
        if (roles != null) {
            roles.close();
        }
    }

    private static int cli(Map<String, String> env, String... args) {
        Wharf.environment = env;
        try {
            List<String> all = new ArrayList<>(List.of(args));
            all.addAll(List.of("--bootstrap", SharedServices.kafka().bootstrapServers(), "--registry", SharedServices.registry().confluentUrl()));
            return Wharf.commandLine().execute(all.toArray(String[]::new));
        } finally {
            Wharf.environment = System.getenv();
        }
    }

    private static String md5(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void jobsGetTheSecretAcrossARotationAndNoTopicHoldsItInClear() throws Exception {
        String secret = "tok-" + UUID.randomUUID();
        String name = "secret-" + UUID.randomUUID().toString().substring(0, 8);
        // The job prints a digest of the variable, so that its result does not carry the secret either.
        assertThat(cli(Map.of(SecretsCommand.KEY_ENV, OLD_KEY), "deploy", name, "--image", LocalImages.BUSYBOX, "--memory", "32m",
                "--secret-env", "TOKEN=" + secret, "--cmd", "sh", "-c", "printf %s \"$TOKEN\" | md5sum | cut -c1-32")).isZero();
        String oldId = SealedSecrets.fromBase64("k", OLD_KEY).sealingKeyId();
        String newId = SealedSecrets.fromBase64("k", NEW_KEY).sealingKeyId();
        assertThat(SealedSecrets.keyIdOf(roles.client.functions().get(name).getSecretEnv().get("TOKEN"))).contains(oldId);

        List<CompletableFuture<JobResult>> results = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            results.add(roles.client.invokeAsync(roles.client.event(name, new byte[0], "text/plain")));
        }
        assertThat(cli(Map.of(SecretsCommand.KEY_ENV, NEW_KEY + "," + OLD_KEY), "secrets", "rotate")).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> SealedSecrets.keyIdOf(roles.client.functions().get(name).getSecretEnv().get("TOKEN"))
                .filter(newId::equals).isPresent());
        for (int i = 0; i < 10; i++) {
            results.add(roles.client.invokeAsync(roles.client.event(name, new byte[0], "text/plain")));
        }
        String expected = md5(secret) + "\n";
        for (CompletableFuture<JobResult> future : results) {
            JobResult result = future.get(120, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(result.getStatus()).as(result.getError()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo(expected);
        }
        assertThat(topicsHolding(secret.getBytes(StandardCharsets.UTF_8))).as("topics with the secret in clear").isEmpty();
        assertThat(topicsHolding(name.getBytes(StandardCharsets.UTF_8))).as("the scan finds what is in clear").contains(Topics.FUNCTIONS, Topics.EVENTS);
    }

    @Test
    void aDeployWithSecretEnvironmentButNoKeyIsRefusedSayingWhereToPutOne() {
        java.io.StringWriter err = new java.io.StringWriter();
        Wharf.environment = Map.of();
        int exit;
        try {
            exit = Wharf.commandLine().setErr(new java.io.PrintWriter(err)).execute("deploy", "secret-nokey", "--image", LocalImages.BUSYBOX,
                    "--secret-env", "TOKEN=x", "--bootstrap", SharedServices.kafka().bootstrapServers(), "--registry",
                    SharedServices.registry().confluentUrl());
        } finally {
            Wharf.environment = System.getenv();
        }
        assertThat(exit).isNotZero();
        assertThat(err.toString()).contains(SecretsCommand.KEY_ENV).contains("wharf secrets key");
    }

    /** Every topic of the broker read from its start: those whose keys, values or headers hold {@code needle}. */
    private static Set<String> topicsHolding(byte[] needle) throws Exception {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedServices.kafka().bootstrapServers());
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_RECORD_BYTES);
        Set<String> found = new java.util.TreeSet<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, SharedServices.kafka().bootstrapServers()));
                KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            admin.describeTopics(admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true)).names().get())
                    .allTopicNames().get().values().forEach(d -> d.partitions().forEach(p -> partitions.add(new TopicPartition(d.name(), p.partition()))));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    boolean holds = contains(record.key(), needle) || contains(record.value(), needle);
                    for (Header header : record.headers()) {
                        holds |= contains(header.value(), needle);
                    }
                    if (holds) {
                        found.add(record.topic());
                    }
                }
            }
            assertThat(partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp))).as("read every topic to its end").isTrue();
        }
        return found;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        return haystack != null && new String(haystack, StandardCharsets.ISO_8859_1).contains(new String(needle, StandardCharsets.ISO_8859_1));
    }
}
