package io.wharf.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import io.wharf.embedded.LocalImages;
import io.wharf.topics.Topics;
import io.wharf.worker.docker.DockerClients;

/**
 * The compose stack of deploy/compose, brought up on this machine by {@code ./wharf stack}: a function deployed
 * through the gateway runs end to end on a worker container; workers scale from 1 to 3 and share the pool's
 * partitions; one broker of three is killed and restarted while jobs flow, and every job still gets exactly one
 * result; {@code down} leaves no container or volume.
 */
class ComposeStackIT {
    private static final String BOOTSTRAP = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094";
    private static final String PROJECT = "wharf-it";

    @Test
    void theStackRunsJobsScalesItsWorkersAndLosesNothingWhenABrokerDies() throws Exception {
        RoleImages.ensure();
        try (var docker = DockerClients.fromEnvironment()) {
            LocalImages.busybox(docker);
        }
        Path dir = Files.createTempDirectory("wharf-stack-it-");
        Gateway gateway = null;
        try {
            stack(dir, "up");
            gateway = new Gateway("http://127.0.0.1:18080", Files.readString(dir.resolve("targets/admin.key")).strip());
            gateway.deploy("upper", "{\"image\": \"" + LocalImages.BUSYBOX + "\", \"cmd\": [\"sh\", \"-c\", \"tr a-z A-Z\"], \"memory\": \"32m\", \"timeout\": \"20s\"}");
            Gateway g = gateway;
            assertThat(await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> g.call("upper", "hello stack"), "HELLO STACK"::equals))
                    .isEqualTo("HELLO STACK");
            List<String> first = gateway.submit("upper", 20);
            gateway.awaitSucceeded(first, Duration.ofSeconds(120));

            stack(dir, "up", "--workers", "3");
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", BOOTSTRAP))) {
                await("3 workers sharing the pool's 6 partitions").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    ConsumerGroupDescription group = admin.describeConsumerGroups(List.of("wharf-workers-" + Topics.DEFAULT_POOL)).all().get()
                            .get("wharf-workers-" + Topics.DEFAULT_POOL);
                    return group.members().size() == 3 && group.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty())
                            && group.members().stream().mapToInt(m -> m.assignment().topicPartitions().size()).sum() == 6;
                });
                System.out.println("partitions per worker: " + admin.describeConsumerGroups(List.of("wharf-workers-default")).all().get()
                        .get("wharf-workers-default").members().stream().map(MemberDescription::assignment).toList());
            }
            List<String> scaled = gateway.submit("upper", 30);
            gateway.awaitSucceeded(scaled, Duration.ofSeconds(120));

            // One broker of three dies while jobs are sent; it comes back. Nothing may be lost or doubled.
            List<String> during = new ArrayList<>(gateway.submit("upper", 15));
            stack(dir, "compose", "kill", "broker-2");
            long killed = System.nanoTime();
            during.addAll(gateway.submit("upper", 15));
            gateway.awaitSucceeded(during, Duration.ofSeconds(180));
            System.out.printf("broker 2 killed: the 15 jobs sent after it all ended within %.1f s%n", (System.nanoTime() - killed) / 1e9);
            stack(dir, "compose", "start", "broker-2");
            List<String> after = gateway.submit("upper", 15);
            gateway.awaitSucceeded(after, Duration.ofSeconds(120));

            List<String> all = new ArrayList<>(first);
            all.addAll(scaled);
            all.addAll(during);
            all.addAll(after);
            assertThat(resultsPerJob(all)).as("exactly one result per job").allSatisfy((job, count) -> assertThat(count).isEqualTo(1))
                    .hasSize(all.size());
        } finally {
            stack(dir, "down");
            assertThat(RoleImages.run(List.of("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project=" + PROJECT), false).strip())
                    .as("no container left").isEmpty();
            assertThat(RoleImages.run(List.of("docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + PROJECT), false).strip())
                    .as("no volume left").isEmpty();
            assertThat(dir).doesNotExist();
        }
    }

    private static void stack(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", OperatingGuideIT.ROOT.resolve("scripts/stack.sh").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(OperatingGuideIT.ROOT.toFile()).redirectErrorStream(true).inheritIO();
        builder.environment().putAll(Map.of("WHARF_STACK_DIR", dir.toString(), "WHARF_STACK_PROJECT", PROJECT, "JAVA_HOME", System.getProperty("java.home")));
        Process process = builder.start();
        assertThat(process.waitFor(10, TimeUnit.MINUTES)).as("wharf stack " + String.join(" ", args) + " ended").isTrue();
        assertThat(process.exitValue()).as("wharf stack " + String.join(" ", args)).isZero();
    }

    /** Every committed record of wharf.results, counted by job id, for {@code jobs}. */
    private static Map<String, Integer> resultsPerJob(List<String> jobs) {
        Map<String, Integer> counts = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", BOOTSTRAP, "isolation.level", "read_committed"),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.RESULTS).stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (jobs.contains(record.key())) {
                        counts.merge(record.key(), 1, Integer::sum);
                    }
                }
            }
        }
        return counts;
    }
}
