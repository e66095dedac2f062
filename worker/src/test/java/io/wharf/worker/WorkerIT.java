package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.worker.runtime.Labels;

/** The worker against a real broker, registry and Docker engine, fed Job records directly. */
class WorkerIT {
    /** Echoes stdin after checking it equals the payload file; exits 3 if they differ. */
    private static final List<String> ECHO_CHECKED = List.of("sh", "-c",
            "cat > /tmp/in && cmp -s /tmp/in \"$PAYLOAD_FILE\" && cat /tmp/in || { echo 'stdin and $PAYLOAD_FILE differ' >&2; exit 3; }");

    private WorkerHarness harness;

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(4);
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    private Map<String, JobResult> awaitResults(int count, Duration timeout) {
        Map<String, JobResult> byJob = new HashMap<>();
        List<JobResult> all = new ArrayList<>();
        await().atMost(timeout).pollInterval(Duration.ZERO).until(() -> {
            all.addAll(harness.poll());
            return all.size() >= count;
        });
        all.forEach(r -> byJob.put(r.getJobId(), r));
        assertThat(byJob).as("one result per job").hasSize(all.size());
        return byJob;
    }

    @Test
    void shouldDeliverBinaryUtf8AndOneMebibytePayloadsIntactOnStdinAndAsAFile() {
        harness.startWorker("w-payload", 4);
        FunctionSpec fn = harness.function(harness.pool + "-echo").setCommand(ECHO_CHECKED).build();
        byte[] binary = new byte[4096];
        new Random(42).nextBytes(binary);
        byte[] utf8 = "Grüße, 世界! 🚢 \n\t\"quoted\" $HOME".getBytes(StandardCharsets.UTF_8);
        byte[] mebibyte = new byte[1024 * 1024];
        new Random(7).nextBytes(mebibyte);
        Map<String, byte[]> payloads = Map.of("binary", binary, "utf8", utf8, "mib", mebibyte, "empty", new byte[0]);
        payloads.forEach((id, payload) -> harness.submit(harness.job(harness.pool + "-" + id, fn, payload)));

        Map<String, JobResult> results = awaitResults(payloads.size(), Duration.ofSeconds(60));
        payloads.forEach((id, payload) -> {
            JobResult result = results.get(harness.pool + "-" + id);
            assertThat(result.getStatus()).as(id + ": " + result.getError() + " " + result.getStderrTail()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(result.getBody()).as(id).isEqualTo(ByteBuffer.wrap(payload));
            assertThat(result.getBodyTruncated()).isFalse();
            assertThat(result.getExitCode()).isZero();
            assertThat(result.getWorkerId()).isEqualTo("w-payload");
            assertThat(result.getTimings().getStartedAt()).isLessThanOrEqualTo(result.getTimings().getExitedAt());
            assertThat(result.getTimings().getCreatedAt()).isLessThanOrEqualTo(result.getTimings().getStartedAt());
        });
    }

    @Test
    void shouldPassTheJobContractEnvironment() {
        harness.startWorker("w-env", 2);
        FunctionSpec fn = harness.function(harness.pool + "-env").setEnv(Map.of("GREETING", "ahoy"))
                .setCommand(List.of("sh", "-c", "echo \"$WHARF_JOB_ID $WHARF_FUNCTION $WHARF_ATTEMPT $GREETING\""))
                .build();
        harness.submit(harness.job(harness.pool + "-env-1", fn, new byte[0]));
        JobResult result = awaitResults(1, Duration.ofSeconds(30)).values().iterator().next();
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString())
                .isEqualTo(harness.pool + "-env-1 " + harness.pool + "-env 1 ahoy\n");
    }

    @Test
    void shouldReportTimeoutsOomKillsAndFailuresWithTheirEvidence() {
        harness.startWorker("w-fail", 4);
        FunctionSpec slow = harness.function(harness.pool + "-slow").setTimeoutMillis(1000).setCommand(List.of("sleep", "60")).build();
        // The subshell is OOM-killed, the shell itself exits 0: the status must still say OOM.
        FunctionSpec hungry = harness.function(harness.pool + "-hungry").setMemoryMb(16)
                .setCommand(List.of("sh", "-c", "(x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}); exit 0")).build();
        FunctionSpec failing = harness.function(harness.pool + "-failing")
                .setCommand(List.of("sh", "-c", "echo 'line one' >&2; echo 'disk on fire' >&2; exit 7")).build();
        harness.submit(harness.job(harness.pool + "-slow-1", slow, new byte[0]));
        harness.submit(harness.job(harness.pool + "-hungry-1", hungry, new byte[0]));
        harness.submit(harness.job(harness.pool + "-failing-1", failing, new byte[0]));

        Map<String, JobResult> results = awaitResults(3, Duration.ofSeconds(60));
        JobResult timedOut = results.get(harness.pool + "-slow-1");
        assertThat(timedOut.getStatus()).isEqualTo(JobStatus.TIMED_OUT);
        assertThat(timedOut.getError()).contains("1000 ms");
        assertThat(timedOut.getTimings().getExitedAt() - timedOut.getTimings().getStartedAt()).isBetween(900L, 10_000L);

        JobResult oom = results.get(harness.pool + "-hungry-1");
        assertThat(oom.getStatus()).isEqualTo(JobStatus.OOM_KILLED);
        assertThat(oom.getExitCode()).isZero();
        assertThat(oom.getError()).contains("16 MiB");

        JobResult failed = results.get(harness.pool + "-failing-1");
        assertThat(failed.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.getExitCode()).isEqualTo(7);
        assertThat(failed.getStderrTail()).contains("disk on fire").contains("line one");
    }

    @Test
    void shouldFailClearlyWhenTheImageCannotBePulled() {
        harness.startWorker("w-pull", 2);
        FunctionSpec missing = harness.function(harness.pool + "-missing").setImage("127.0.0.1:1/nowhere/none:1").build();
        harness.submit(harness.job(harness.pool + "-missing-1", missing, new byte[0]));
        JobResult result = awaitResults(1, Duration.ofSeconds(60)).values().iterator().next();
        assertThat(result.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(result.getError()).contains("127.0.0.1:1/nowhere/none:1").contains("could not be pulled");
    }

    @Test
    void shouldCompleteFiftyJobsOverTwoWorkersAndLeaveNoContainerBehind() {
        Worker a = harness.startWorker("w-a-" + harness.pool, 4);
        Worker b = harness.startWorker("w-b-" + harness.pool, 4);
        await().atMost(Duration.ofSeconds(60)).until(() -> !a.assignedPartitions().isEmpty() && !b.assignedPartitions().isEmpty()
                && a.assignedPartitions().size() + b.assignedPartitions().size() == 4);
        FunctionSpec fn = harness.function(harness.pool + "-count").setCommand(List.of("sh", "-c", "cat; echo \" done\"")).build();
        for (int i = 0; i < 50; i++) {
            harness.submit(harness.job(harness.pool + "-n" + i, fn, ("job " + i).getBytes(StandardCharsets.UTF_8)));
        }
        Map<String, JobResult> results = awaitResults(50, Duration.ofSeconds(180));
        assertThat(results).hasSize(50);
        assertThat(results.values()).allSatisfy(r -> assertThat(r.getStatus()).isEqualTo(JobStatus.SUCCEEDED));
        for (int i = 0; i < 50; i++) {
            assertThat(StandardCharsets.UTF_8.decode(results.get(harness.pool + "-n" + i).getBody()).toString()).isEqualTo("job " + i + " done\n");
        }
        assertThat(results.values().stream().map(JobResult::getWorkerId).collect(Collectors.toSet()))
                .as("both workers ran jobs").hasSize(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.FUNCTION, fn.getName())).exec().isEmpty());
    }
}
