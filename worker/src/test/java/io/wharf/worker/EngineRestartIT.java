package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.DockerClient;

import io.wharf.embedded.LocalImages;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.worker.runtime.Labels;

/**
 * The Docker engine restarts while a job runs: that is no fault of the job, so it runs again once the engine is back,
 * as the same attempt, and has one result; nothing of the first run is left on the engine.
 */
class EngineRestartIT {
    private final WorkerHarness harness = new WorkerHarness(1);

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void aJobCutShortByAnEngineRestartRunsAgainAsTheSameAttemptAndHasOneResult() throws Exception {
        try (PrivateEngine engine = new PrivateEngine(); DockerClient docker = engine.client()) {
            LocalImages.busybox(docker);
            String workerId = "engine-" + harness.pool;
            Process worker = harness.startWorkerProcess(workerId, 2, Map.of(), Map.of("DOCKER_HOST", engine.host()));
            FunctionSpec fn = harness.function(harness.pool + "-steady").setCommand(List.of("sh", "-c",
                    // Ends on the SIGTERM an engine stopping sends (as a process with a handler does), else after 12 s.
                    "trap 'exit 143' TERM; sleep 12 & wait; echo done")).build();
            String jobId = harness.pool + "-steady";
            harness.submit(harness.job(jobId, fn, new byte[0]));
            await().atMost(Duration.ofSeconds(60)).until(() -> !docker.listContainersCmd()
                    .withLabelFilter(Map.of(Labels.WORKER, workerId, Labels.JOB, jobId)).exec().isEmpty());

            engine.restart();

            JobResult result = harness.awaitResult(jobId, Duration.ofSeconds(120));
            assertThat(result.getStatus()).as(result.getError()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("done\n");
            assertThat(result.getAttempt()).as("the engine's restart is not an attempt of the function").isEqualTo(1);
            assertThat(harness.allResults().stream().filter(r -> r.getJobId().equals(jobId))).hasSize(1);
            await().atMost(Duration.ofSeconds(30)).until(() -> docker.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(Labels.WORKER, workerId)).exec().isEmpty());
            worker.destroy();
            worker.waitFor();
        }
    }
}
