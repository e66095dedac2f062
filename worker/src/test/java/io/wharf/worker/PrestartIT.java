package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.worker.runtime.Labels;

/** Containers started ahead of need keep the cold contract: a fresh container per job, same payload, env, limits. */
class PrestartIT {
    private WorkerHarness harness;
    private String workerId;

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(1);
        workerId = "w-pre-" + harness.pool;
        harness.startWorker(workerId, 2, Map.of(WorkerConfig.PRESTART_CONFIG, 2));
    }

    @AfterEach
    void tearDown() {
        harness.close();
        assertThat(harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.WORKER, workerId)).exec())
                .as("pre-started containers removed with the worker").isEmpty();
    }

    private JobResult run(String jobId, FunctionSpec fn, byte[] payload) {
        harness.submit(harness.job(jobId, fn, payload));
        return harness.awaitResult(jobId, Duration.ofSeconds(60));
    }

    private static String body(JobResult r) {
        return StandardCharsets.UTF_8.decode(r.getBody().duplicate()).toString();
    }

    @Test
    void shouldKeepTheJobContractOnAFreshPrestartedContainerPerJob() {
        FunctionSpec fn = harness.function(harness.pool + "-pre").setEnv(Map.of("GREETING", "ahoy"))
                .setCommand(List.of("sh", "-c", "cat > /tmp/in; cmp -s /tmp/in \"$PAYLOAD_FILE\" || exit 3; "
                        + "echo \"$WHARF_JOB_ID $WHARF_ATTEMPT $WHARF_FUNCTION $GREETING $$ $HOSTNAME\"; touch /tmp/dirty; cat /tmp/in")).build();
        byte[] binary = new byte[300_000];
        new Random(3).nextBytes(binary);
        Set<String> hosts = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            String jobId = harness.pool + "-pre-" + i;
            if (i > 0) { // the next container started ahead of its job: on a busy machine it may take longer than a job waits for one
                await().atMost(Duration.ofSeconds(30)).until(() -> !harness.docker.listContainersCmd()
                        .withLabelFilter(Map.of(Labels.PRESTARTED, "true", Labels.FUNCTION, fn.getName())).withStatusFilter(List.of("running"))
                        .exec().isEmpty());
            }
            JobResult r = run(jobId, fn, binary);
            assertThat(r.getStatus()).as(r.getError() + " " + r.getStderrTail()).isEqualTo(JobStatus.SUCCEEDED);
            byte[] out = new byte[r.getBody().remaining()];
            r.getBody().duplicate().get(out);
            String header = new String(out, 0, indexOf(out, (byte) '\n'), StandardCharsets.UTF_8);
            String[] f = header.split(" ");
            assertThat(f[0]).isEqualTo(jobId);
            assertThat(f[1]).isEqualTo("1");
            assertThat(f[2]).isEqualTo(harness.pool + "-pre");
            assertThat(f[3]).isEqualTo("ahoy");
            assertThat(f[4]).as("the function's process is PID 1").isEqualTo("1");
            hosts.add(f[5]);
            if (i > 0) {
                assertThat(r.getTimings().getCreatedAt()).as("job %d ran on a container created before it was taken", i)
                        .isLessThan(r.getTimings().getDequeuedAt());
            }
            assertThat(ByteBuffer.wrap(out, header.length() + 1, out.length - header.length() - 1)).isEqualTo(ByteBuffer.wrap(binary));
        }
        assertThat(hosts).as("a fresh container for every job").hasSize(4);
    }

    @Test
    void shouldNameAPrestartedContainerAfterItsJob() {
        FunctionSpec fn = harness.function(harness.pool + "-named").setCommand(List.of("sleep", "3")).build();
        assertThat(run(harness.pool + "-named-0", fn, new byte[0]).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        String jobId = harness.pool + "-named-1"; // runs on a pre-started container
        harness.submit(harness.job(jobId, fn, new byte[0]));
        String name = Labels.jobContainerName(jobId, 1);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(harness.docker.listContainersCmd()
                .withNameFilter(List.of(name)).exec())
                .singleElement()
                .satisfies(c -> assertThat(c.getLabels()).containsEntry(Labels.PRESTARTED, "true")
                        .containsEntry(Labels.WORKER, workerId)));
        assertThat(harness.awaitResult(jobId, Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void shouldApplyTimeoutsAndMemoryLimits() {
        FunctionSpec slow = harness.function(harness.pool + "-slow").setTimeoutMillis(1000).setCommand(List.of("sleep", "60")).build();
        FunctionSpec hungry = harness.function(harness.pool + "-hungry").setMemoryMb(16)
                .setCommand(List.of("sh", "-c", "x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo ${#x}")).build();
        for (int i = 0; i < 2; i++) { // the second of each runs on a pre-started container
            assertThat(run(harness.pool + "-slow-" + i, slow, new byte[0]).getStatus()).isEqualTo(JobStatus.TIMED_OUT);
            assertThat(run(harness.pool + "-hungry-" + i, hungry, new byte[0]).getStatus()).isEqualTo(JobStatus.OOM_KILLED);
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return bytes.length;
    }

    @Test
    void theHttpRequestAJobCameFromReachesFreshAndPrestartedContainersAsItsEnvironmentAndNothingElse() {
        FunctionSpec fn = harness.function(harness.pool + "-http").setCommand(List.of("sh", "-c",
                "printf '%s|%s|%s|%s' \"$WHARF_HTTP_METHOD\" \"$WHARF_HTTP_PATH\" \"$WHARF_HTTP_QUERY\" \"$WHARF_HTTP_HEADER_X_NOTE\"")).build();
        String note = "it's \"quoted\" $(id) `id` ; exit 9";
        for (int i = 0; i < 3; i++) {
            String jobId = harness.pool + "-http-" + i;
            Job job = io.wharf.records.Job.newBuilder(harness.job(jobId, fn, new byte[0])).setHttp(io.wharf.records.HttpRequest.newBuilder()
                    .setMethod("PUT").setPath("/items/" + i).setQuery("a=1&b=2").setHeaders(Map.of("x-note", note)).build()).build();
            harness.submit(job);
            JobResult r = harness.awaitResult(jobId, Duration.ofSeconds(60));
            assertThat(r.getStatus()).as(r.getError() + " " + r.getStderrTail()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(body(r)).isEqualTo("PUT|/items/" + i + "|a=1&b=2|" + note);
            if (i > 0) {
                assertThat(r.getTimings().getCreatedAt()).as("job %d ran on a pre-started container", i).isLessThan(r.getTimings().getDequeuedAt());
            }
        }
    }
}
