package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.worker.runtime.Labels;

/** Stopping and starting workers: SIGTERM drains, a restart cleans up what a crash left. */
class WorkerLifecycleIT {
    private final WorkerHarness harness = new WorkerHarness(1);

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void shouldFinishRunningJobsOnSigtermAndNotRunThemAgain() throws Exception {
        String id = "drained-" + harness.pool;
        Process process = harness.startWorkerProcess(id, 2);
        FunctionSpec fn = harness.function(harness.pool + "-slow").setCommand(List.of("sh", "-c", "sleep 3; cat")).build();
        harness.submit(harness.job(harness.pool + "-drain", fn, "finished".getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.WORKER, id)).exec().isEmpty());

        process.destroy(); // SIGTERM
        assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("worker exits after draining").isTrue();

        harness.startWorker("after-" + harness.pool, 2);
        List<JobResult> results = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            results.addAll(harness.poll());
            return !results.isEmpty();
        });
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> {
            results.addAll(harness.poll());
            return results.size() == 1;
        });
        JobResult result = results.getFirst();
        assertThat(result.getWorkerId()).as("the draining worker finished it").isEqualTo(id);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("finished");
    }

    @Test
    void shouldKillAndReportJobsStillRunningAtTheDrainTimeoutAndRunThemAgainElsewhere() throws Exception {
        String id = "deadline-" + harness.pool;
        Process process = harness.startWorkerProcess(id, 2, Map.of(WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG, 1000));
        FunctionSpec fn = harness.function(harness.pool + "-long").setCommand(List.of("sh", "-c", "sleep 5; cat")).build();
        String jobId = harness.pool + "-long-1";
        harness.submit(harness.job(jobId, fn, "again".getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.WORKER, id)).exec().isEmpty());

        process.destroy(); // SIGTERM: 1 s of drain, then the job is killed
        assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("worker exits after its drain timeout").isTrue();
        assertThat(harness.docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, id)).exec())
                .as("the killed job's container is gone").isEmpty();
        String log = java.nio.file.Files.readString(java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), id + ".log"));
        assertThat(log).contains("drain timeout (1000 ms) passed with 1 jobs running", jobId);

        harness.startWorker("next-" + harness.pool, 2);
        JobResult result = harness.awaitResult(jobId, Duration.ofSeconds(60));
        assertThat(result.getWorkerId()).as("run again by the next owner").isEqualTo("next-" + harness.pool);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("again");
    }

    @Test
    void shouldRemoveContainersAnEarlierRunOfItselfLeftBehind() {
        String id = "restarted-" + harness.pool;
        String leftover = harness.docker.createContainerCmd(harness.image).withCmd("sleep", "600")
                .withLabels(Map.of(Labels.WORKER, id, Labels.JOB, "old-job"))
                .exec().getId();
        harness.docker.startContainerCmd(leftover).exec();

        harness.startWorker(id, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.WORKER, id)).exec().isEmpty());
    }
}
