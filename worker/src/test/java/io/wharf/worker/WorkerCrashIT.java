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

/** A worker killed (SIGKILL) mid-job: the job runs again on another worker and exactly one result arrives. */
class WorkerCrashIT {
    private final WorkerHarness harness = new WorkerHarness(1);

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void shouldRunTheJobOfAKilledWorkerAgainElsewhereAndPublishExactlyOneResult() throws Exception {
        String doomedId = "doomed-" + harness.pool;
        Process doomed = harness.startWorkerProcess(doomedId, 2);

        FunctionSpec fn = harness.function(harness.pool + "-slowecho").setCommand(List.of("sh", "-c", "sleep 2; cat")).build();
        harness.submit(harness.job(harness.pool + "-only", fn, "survives".getBytes(StandardCharsets.UTF_8)));

        // Kill the worker process once its container runs the job.
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.WORKER, doomedId)).exec().isEmpty());
        doomed.destroyForcibly().waitFor();

        harness.startWorker("survivor-" + harness.pool, 2);
        List<JobResult> results = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            results.addAll(harness.poll());
            return !results.isEmpty();
        });
        // A duplicate would arrive within seconds; the count must stay at one meanwhile.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> {
            results.addAll(harness.poll());
            return results.size() == 1;
        });
        assertThat(results).hasSize(1);
        JobResult result = results.getFirst();
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(result.getWorkerId()).isEqualTo("survivor-" + harness.pool);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("survives");
    }
}
