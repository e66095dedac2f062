package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.LogLine;
import io.wharf.records.LogStream;
import io.wharf.serde.AvroDeserializer;
import io.wharf.topics.Topics;

/** Output lines on wharf.logs: streamed while the job runs, capped with a marker, kept through kills. */
class LogsIT {
    private static final long LOG_CAP = 1024 * 1024;
    private WorkerHarness harness;
    private KafkaConsumer<String, LogLine> logs;

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(2);
        harness.startWorker("w-logs-" + harness.pool, 4, Map.of(WorkerConfig.MAX_LOG_BYTES_CONFIG, LOG_CAP));
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, harness.kafka.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "logs-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        logs = new KafkaConsumer<>(c, new StringDeserializer(), new AvroDeserializer<>(harness.registry, LogLine.class));
        logs.subscribe(List.of(Topics.LOGS));
    }

    @AfterEach
    void tearDown() {
        logs.close();
        harness.close();
    }

    private String submit(String suffix, FunctionSpec.Builder fn, String script) {
        FunctionSpec spec = fn.setName(harness.pool + "-" + suffix).setCommand(List.of("sh", "-c", script)).build();
        String jobId = harness.pool + "-" + suffix + "-1";
        harness.submit(harness.job(jobId, spec, new byte[0]));
        return jobId;
    }

    private List<LogLine> pollLogs(String jobId) {
        List<LogLine> out = new ArrayList<>();
        logs.poll(Duration.ofMillis(100)).forEach(r -> {
            if (r.key().equals(jobId)) {
                out.add(r.value());
            }
        });
        return out;
    }

    private JobResult awaitResult(String jobId, List<LogLine> lines) {
        List<JobResult> results = new ArrayList<>();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ZERO).until(() -> {
            harness.poll().stream().filter(r -> r.getJobId().equals(jobId)).forEach(results::add);
            lines.addAll(pollLogs(jobId));
            return !results.isEmpty();
        });
        return results.getFirst();
    }

    private static String text(LogLine line) {
        return StandardCharsets.UTF_8.decode(line.getLine().duplicate()).toString();
    }

    @Test
    void shouldStreamLinesWhileTheJobRuns() {
        String jobId = submit("stream", harness.function("x"), "echo first; echo oops >&2; sleep 4; echo last");
        List<LogLine> lines = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
            lines.addAll(pollLogs(jobId));
            return lines.stream().anyMatch(l -> text(l).equals("first"));
        });
        long firstSeenAt = System.currentTimeMillis();
        JobResult result = awaitResult(jobId, lines);
        assertThat(result.getTimings().getExitedAt()).as("'first' was read before the container exited").isGreaterThan(firstSeenAt);
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            lines.addAll(pollLogs(jobId));
            return lines.stream().anyMatch(l -> text(l).equals("last"));
        });
        assertThat(lines).extracting(LogsIT::text).containsSubsequence("first", "last");
        assertThat(lines).anySatisfy(l -> {
            assertThat(text(l)).isEqualTo("oops");
            assertThat(l.getStream()).isEqualTo(LogStream.STDERR);
        });
        assertThat(lines).extracting(LogLine::getSequence).doesNotHaveDuplicates();
    }

    @Test
    void shouldGiveEachJobOfAWarmContainerItsOwnLines() {
        String script = "exec 3<\"$WHARF_HOT_IN\" 4>\"$WHARF_HOT_OUT\"; "
                + "while read -r id p <&3; do echo \"out $id\"; echo \"err $id\" >&2; echo \"$id 0 $(hostname | base64)\" >&4; done";
        FunctionSpec fn = harness.function(harness.pool + "-hotlogs").setHot(HotSettings.newBuilder().build())
                .setCommand(List.of("sh", "-c", script)).build();
        Map<String, List<LogLine>> byJob = new java.util.HashMap<>();
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String jobId = harness.pool + "-hot-" + i;
            byJob.put(jobId, new ArrayList<>());
            harness.submit(harness.job(jobId, fn, new byte[0]));
            JobResult result = awaitResult(jobId, byJob.get(jobId));
            assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            hosts.add(StandardCharsets.UTF_8.decode(result.getBody()).toString());
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ZERO).until(() -> {
            logs.poll(Duration.ofMillis(100)).forEach(r -> byJob.computeIfPresent(r.key(), (k, lines) -> {
                lines.add(r.value());
                return lines;
            }));
            return byJob.values().stream().allMatch(lines -> lines.size() >= 2);
        });
        assertThat(hosts).as("one warm container served all three").containsOnly(hosts.getFirst());
        byJob.forEach((jobId, lines) -> {
            assertThat(lines).as(jobId).extracting(LogsIT::text).containsExactlyInAnyOrder("out " + jobId, "err " + jobId);
            assertThat(lines).filteredOn(l -> text(l).startsWith("err")).extracting(LogLine::getStream).containsOnly(LogStream.STDERR);
        });
    }

    @Test
    void shouldTruncateTheBodyAndCapTheLogsWithAMarker() {
        long total = 10L * 1024 * 1024;
        String jobId = submit("flood", harness.function("x"), "yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdef | head -c " + total);
        List<LogLine> lines = new ArrayList<>();
        JobResult result = awaitResult(jobId, lines);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(result.getBodyTruncated()).isTrue();
        assertThat(result.getBody().remaining()).isEqualTo(1024 * 1024);

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ZERO).until(() -> {
            lines.addAll(pollLogs(jobId));
            return lines.stream().anyMatch(l -> l.getStream() == LogStream.SYSTEM);
        });
        long shipped = lines.stream().filter(l -> l.getStream() == LogStream.STDOUT).mapToLong(l -> l.getLine().remaining() + 1).sum();
        assertThat(shipped).isLessThanOrEqualTo(LOG_CAP).isGreaterThan(LOG_CAP - 200);
        LogLine marker = lines.stream().filter(l -> l.getStream() == LogStream.SYSTEM).findFirst().orElseThrow();
        assertThat(text(marker)).contains("log limit of " + LOG_CAP + " bytes reached: dropped " + (total - shipped) + " bytes");
    }

    @Test
    void shouldKeepTheLogsOfJobsKilledForMemoryOrTime() {
        String oom = submit("oom", harness.function("x").setMemoryMb(16), "echo before-oom; x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo never");
        String slow = submit("slow", harness.function("x").setTimeoutMillis(1000), "echo before-timeout; sleep 60");
        List<LogLine> oomLines = new ArrayList<>();
        List<LogLine> slowLines = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
            logs.poll(Duration.ofMillis(100)).forEach(r -> {
                if (r.key().equals(oom)) {
                    oomLines.add(r.value());
                } else if (r.key().equals(slow)) {
                    slowLines.add(r.value());
                }
            });
            return oomLines.stream().anyMatch(l -> l.getStream() == LogStream.SYSTEM)
                    && slowLines.stream().anyMatch(l -> l.getStream() == LogStream.SYSTEM);
        });
        assertThat(oomLines).extracting(LogsIT::text).contains("before-oom").noneMatch(t -> t.equals("never"))
                .anyMatch(t -> t.startsWith("[wharf] OOM_KILLED"));
        assertThat(slowLines).extracting(LogsIT::text).contains("before-timeout").anyMatch(t -> t.startsWith("[wharf] TIMED_OUT"));
    }
}
