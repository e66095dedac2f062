package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.embedded.LocalImages;
import io.wharf.worker.runtime.Labels;

/** Hot functions: warm containers reused across jobs over the FIFO protocol, replaced when they die or age. */
class HotIT {
    /** Answers with its container's hostname; exits (crashes) on payload "boom" once it has served a job. */
    private static final String WHO_AM_I = """
            exec 3<"$WHARF_HOT_IN" 4>"$WHARF_HOT_OUT"
            n=0
            while read -r id payload <&3; do
              if [ "$payload" = "Ym9vbQ==" ] && [ $n -ge 1 ]; then exit 3; fi
              if [ "$payload" = "c2xvdw==" ]; then sleep 30; fi
              n=$((n+1))
              echo "$id 0 $(printf %s "$HOSTNAME" | base64 -w0)" >&4
            done
            """;

    private WorkerHarness harness;

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(2);
        LocalImages.hotEcho(harness.docker);
    }

    @AfterEach
    void tearDown() {
        harness.close();
        assertThat(harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.HOT, "true", Labels.FUNCTION, harness.pool + "-hot")).exec())
                .as("warm containers removed when the worker stops").isEmpty();
    }

    private FunctionSpec hot(HotSettings settings, String script) {
        return harness.function(harness.pool + "-hot").setHot(settings).setTimeoutMillis(5000)
                .setCommand(List.of("sh", "-c", script)).build();
    }

    private JobResult result(String jobId) {
        return harness.awaitResult(jobId, Duration.ofSeconds(90));
    }

    private static String body(JobResult r) {
        return StandardCharsets.UTF_8.decode(r.getBody().duplicate()).toString();
    }

    @Test
    void shouldRunTwoHundredJobsInAFewWarmContainers() {
        harness.startWorker("w-hot-" + harness.pool, 4);
        FunctionSpec fn = harness.function(harness.pool + "-hot").setImage(LocalImages.HOT_ECHO).setCommand(List.of())
                .setHot(HotSettings.newBuilder().build()).build();
        for (int i = 0; i < 200; i++) {
            harness.submit(harness.job(harness.pool + "-h" + i, fn, ("job " + i + " ✓").getBytes(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < 200; i++) {
            JobResult r = result(harness.pool + "-h" + i);
            assertThat(r.getStatus()).as(r.getError()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(body(r)).isEqualTo("job " + i + " ✓");
        }
        assertThat(harness.docker.listContainersCmd().withLabelFilter(Map.of(Labels.FUNCTION, harness.pool + "-hot")).exec())
                .as("warm containers").hasSizeBetween(1, 4);
    }

    @Test
    void shouldReplaceACrashedContainerAndCompleteItsJob() {
        harness.startWorker("w-crash-" + harness.pool, 1);
        FunctionSpec fn = hot(HotSettings.newBuilder().build(), WHO_AM_I);
        harness.submit(harness.job(harness.pool + "-first", fn, "hi".getBytes()));
        String firstHost = body(result(harness.pool + "-first"));
        harness.submit(harness.job(harness.pool + "-boom", fn, "boom".getBytes()));
        JobResult boom = result(harness.pool + "-boom");
        assertThat(boom.getStatus()).as(boom.getError()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(body(boom)).as("answered by a new container").isNotEqualTo(firstHost).isNotEmpty();
    }

    @Test
    void shouldReportTheStderrOfAFailedJob() {
        harness.startWorker("w-fail-" + harness.pool, 1);
        FunctionSpec fn = hot(HotSettings.newBuilder().build(), """
                exec 3<"$WHARF_HOT_IN" 4>"$WHARF_HOT_OUT"
                while read -r id payload <&3; do
                  if [ "$payload" = "YmFk" ]; then echo "cannot parse $id" >&2; echo "$id 2 " >&4; else echo "$id 0 $payload" >&4; fi
                done
                """);
        harness.submit(harness.job(harness.pool + "-good", fn, "ok".getBytes()));
        harness.submit(harness.job(harness.pool + "-bad", fn, "bad".getBytes()));
        assertThat(result(harness.pool + "-good").getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        JobResult bad = result(harness.pool + "-bad");
        assertThat(bad.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(bad.getExitCode()).isEqualTo(2);
        assertThat(bad.getStderrTail()).isEqualTo("cannot parse " + harness.pool + "-bad\n");
    }

    @Test
    void shouldKillAJobPastItsTimeoutAndGoOnWithANewContainer() {
        harness.startWorker("w-slow-" + harness.pool, 1);
        FunctionSpec fn = hot(HotSettings.newBuilder().build(), WHO_AM_I);
        harness.submit(harness.job(harness.pool + "-slow", fn, "slow".getBytes()));
        harness.submit(harness.job(harness.pool + "-after", fn, "hi".getBytes()));
        assertThat(result(harness.pool + "-slow").getStatus()).isEqualTo(JobStatus.TIMED_OUT);
        assertThat(result(harness.pool + "-after").getStatus()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void shouldRetireContainersAfterMaxJobsAndWhenIdle() {
        harness.startWorker("w-age-" + harness.pool, 1);
        FunctionSpec fn = hot(HotSettings.newBuilder().setMaxJobsPerContainer(5).setIdleTtlMillis(1000).build(), WHO_AM_I);
        Set<String> hosts = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            harness.submit(harness.job(harness.pool + "-a" + i, fn, "hi".getBytes()));
        }
        for (int i = 0; i < 20; i++) {
            hosts.add(body(result(harness.pool + "-a" + i)));
        }
        assertThat(hosts).as("a new container every 5 jobs").hasSize(4);
        await().atMost(Duration.ofSeconds(15)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.FUNCTION, harness.pool + "-hot")).exec().isEmpty());
    }

    @Test
    void shouldKeepPrewarmedContainersReady() {
        harness.startWorker("w-prewarm-" + harness.pool, 4);
        FunctionSpec fn = hot(HotSettings.newBuilder().setPrewarm(3).setIdleTtlMillis(60_000).build(), WHO_AM_I);
        harness.submit(harness.job(harness.pool + "-p0", fn, "hi".getBytes()));
        assertThat(result(harness.pool + "-p0").getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.FUNCTION, harness.pool + "-hot")).exec().size() >= 3);
    }

    @Test
    void shouldRetireTheWarmContainersOfAnEarlierVersionOnceTheFunctionIsRedeployed() {
        harness.startWorker("w-versions-" + harness.pool, 4);
        HotSettings warm = HotSettings.newBuilder().setPrewarm(2).setIdleTtlMillis(1_000).build();
        FunctionSpec v1 = hot(warm, WHO_AM_I);
        harness.submit(harness.job(harness.pool + "-v1", v1, "hi".getBytes()));
        assertThat(result(harness.pool + "-v1").getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        FunctionSpec v2 = hot(warm, WHO_AM_I + "\n# v2\n"); // redeployed: another command, another version
        harness.submit(harness.job(harness.pool + "-v2", v2, "hi".getBytes()));
        assertThat(result(harness.pool + "-v2").getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        // Version 1 keeps none of its prewarmed containers; version 2 keeps its two.
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.FUNCTION, harness.pool + "-hot")).exec().size() == 2);
    }

    @Test
    void jobsAwaitingTheirWarmContainersLeaveTheOtherVirtualThreadsOfTheProcessFree() {
        // More jobs awaiting their containers' answers at once than the virtual threads' scheduler has carriers (one per
        // core): a wait that held its carrier would stall every other virtual thread of the process, as a gateway's.
        int jobs = Runtime.getRuntime().availableProcessors() + 2;
        harness.startWorker("w-hot-waits-" + harness.pool, jobs);
        FunctionSpec fn = harness.function(harness.pool + "-hot").setHot(HotSettings.newBuilder().build()).setTimeoutMillis(30_000)
                .setCommand(List.of("sh", "-c", """
                        exec 3<"$WHARF_HOT_IN" 4>"$WHARF_HOT_OUT"
                        while read -r id payload <&3; do sleep 5; echo "$id 0 $payload" >&4; done
                        """)).build();
        for (int i = 0; i < jobs; i++) {
            harness.submit(harness.job(harness.pool + "-w" + i, fn, "hi".getBytes(StandardCharsets.UTF_8)));
        }
        await("a warm container for each job").atMost(Duration.ofSeconds(60)).until(() -> harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.FUNCTION, harness.pool + "-hot")).exec().size() == jobs);
        try (ExecutorService elsewhere = Executors.newVirtualThreadPerTaskExecutor()) {
            await("a virtual thread started while the jobs wait runs at once").during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                    .pollInterval(Duration.ofMillis(100)).until(() -> runsAtOnce(elsewhere));
        }
        for (int i = 0; i < jobs; i++) {
            assertThat(result(harness.pool + "-w" + i).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        }
    }

    /** Whether a task on a new virtual thread ends within half a second (none has work to do meanwhile but the waits). */
    private static boolean runsAtOnce(ExecutorService virtualThreads) throws Exception {
        try {
            virtualThreads.submit(() -> { }).get(500, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    /** Answers like {@link #WHO_AM_I}, but "garbage" gets a line that is no answer and "flood" a line that never ends. */
    private static final String UNRULY = """
            exec 3<"$WHARF_HOT_IN" 4>"$WHARF_HOT_OUT"
            while read -r id payload <&3; do
              if [ "$payload" = "Z2FyYmFnZQ==" ]; then echo "%%garbage%%" >&4; continue; fi
              if [ "$payload" = "b3RoZXI=" ]; then echo "someone-else 0" >&4; continue; fi
              if [ "$payload" = "Zmxvb2Q=" ]; then tr '\\0' a </dev/zero >&4; fi
              echo "$id 0 $(printf %s "$HOSTNAME" | base64 -w0)" >&4
            done
            """;

    @Test
    void aWarmContainerThatBreaksTheProtocolFailsItsJobAndIsReplaced() {
        harness.startWorker("w-hot-unruly-" + harness.pool, 1);
        FunctionSpec fn = hot(HotSettings.newBuilder().build(), UNRULY);
        String first = body(call(fn, 0, "hello"));
        JobResult garbage = call(fn, 1, "garbage");
        assertThat(garbage.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(garbage.getError()).contains("not JOB_ID EXIT_CODE", "%%garbage%%", "its container is replaced");
        String second = body(call(fn, 2, "hello"));
        assertThat(second).as("a new container").isNotEqualTo(first);
        JobResult other = call(fn, 3, "other");
        assertThat(other.getError()).contains("answered job someone-else when job " + harness.pool + "-u3 was asked");
        assertThat(call(fn, 4, "hello").getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        // An endless line is read within the body cap and skipped until the job's timeout kills the container.
        assertThat(call(fn, 5, "flood").getStatus()).isEqualTo(JobStatus.TIMED_OUT);
        assertThat(call(fn, 6, "hello").getStatus()).isEqualTo(JobStatus.SUCCEEDED);
    }

    private JobResult call(FunctionSpec fn, int i, String payload) {
        harness.submit(harness.job(harness.pool + "-u" + i, fn, payload.getBytes(StandardCharsets.UTF_8)));
        return result(harness.pool + "-u" + i);
    }

    @Test
    void aWarmContainerThatNeverOpensItsPipesFailsTheJobSayingSoAndIsRemoved() {
        harness.startWorker("w-hot-mute-" + harness.pool, 1);
        JobResult mute = call(hot(HotSettings.newBuilder().build(), "sleep 120"), 0, "hello");
        assertThat(mute.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(mute.getError()).contains("did not open /wharf/hot/in and /out");
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.HOT, "true", Labels.FUNCTION, harness.pool + "-hot")).exec().isEmpty());
    }
}
