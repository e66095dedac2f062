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
import io.wharf.worker.docker.DockerContainerRunner;

/** Stopping and starting workers: SIGTERM drains, a restart cleans up what a crash left. */
class WorkerLifecycleIT {
    private final WorkerHarness harness = new WorkerHarness(1);
    private Process process;

    @AfterEach
    void tearDown() {
        if (process != null) {
            process.destroyForcibly();
        }
        harness.close();
    }

    @Test
    void shouldFinishRunningJobsOnSigtermAndNotRunThemAgain() throws Exception {
        String id = "drained-" + harness.pool;
        process = harness.startWorkerProcess(id, 2);
        FunctionSpec fn = harness.function(harness.pool + "-slow").setCommand(List.of("sh", "-c", "sleep 3; cat")).build();
        harness.submit(harness.job(harness.pool + "-drain", fn, "finished".getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(DockerContainerRunner.LABEL_WORKER, id)).exec().isEmpty());

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
    void shouldRemoveContainersAnEarlierRunOfItselfLeftBehind() {
        String id = "restarted-" + harness.pool;
        String leftover = harness.docker.createContainerCmd(harness.image).withCmd("sleep", "600")
                .withLabels(Map.of(DockerContainerRunner.LABEL_WORKER, id, DockerContainerRunner.LABEL_JOB, "old-job"))
                .exec().getId();
        harness.docker.startContainerCmd(leftover).exec();

        harness.startWorker(id, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(DockerContainerRunner.LABEL_WORKER, id)).exec().isEmpty());
    }
}
