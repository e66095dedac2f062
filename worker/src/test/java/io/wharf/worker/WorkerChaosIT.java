package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.worker.runtime.Labels;

/** Workers SIGKILLed again and again while jobs run: every job still ends with exactly one committed result. */
class WorkerChaosIT {
    private final WorkerHarness harness = new WorkerHarness(4);
    private final List<Process> processes = new ArrayList<>();
    private final List<String> ids = new ArrayList<>();

    @AfterEach
    void tearDown() {
        processes.forEach(Process::destroyForcibly);
        harness.close();
        for (String id : ids) {
            harness.docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, id)).exec()
                    .forEach(c -> harness.docker.removeContainerCmd(c.getId()).withForce(true).exec());
        }
    }

    private Process startWorker(String id) throws Exception {
        // Kills land while the same jobs run, again and again: here that is the test's doing, not a poison job's.
        Process p = harness.startWorkerProcess(id, 3, Map.of(WorkerConfig.MAX_CRASHES_CONFIG, 1000));
        processes.add(p);
        ids.add(id);
        return p;
    }

    private boolean runsAContainer(String id) {
        return !harness.docker.listContainersCmd().withLabelFilter(Map.of(Labels.WORKER, id)).exec().isEmpty();
    }

    @Test
    void shouldPublishExactlyOneResultPerJobWhileWorkersAreKilledRepeatedly() throws Exception {
        int jobs = 30;
        FunctionSpec fn = harness.function(harness.pool + "-chaos").setCommand(List.of("sh", "-c", "read word n; sleep $((n % 3)); echo \"$word $n\"")).build();
        // 0 to 2 s per job: jobs of one partition finish out of order, so kills land between such completions.
        for (int i = 0; i < jobs; i++) {
            harness.submit(harness.job(harness.pool + "-j" + i, fn, ("payload " + i).getBytes(StandardCharsets.UTF_8)));
        }
        Map<String, List<JobResult>> results = new HashMap<>();
        Runnable collect = () -> harness.poll().forEach(r -> results.computeIfAbsent(r.getJobId(), k -> new ArrayList<>()).add(r));

        startWorker("chaos-0-" + harness.pool);
        Process current = startWorker("chaos-1-" + harness.pool);
        int kills = 0;
        for (int round = 2; round < 6; round++) {
            String victim = ids.get(ids.size() - 1);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
                collect.run();
                return runsAContainer(victim) || results.size() == jobs;
            });
            if (results.size() == jobs) {
                break;
            }
            current.destroyForcibly().waitFor();
            kills++;
            current = startWorker("chaos-" + round + "-" + harness.pool);
        }
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ZERO).until(() -> {
            collect.run();
            return results.size() == jobs;
        });
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> {
            collect.run();
            return results.values().stream().allMatch(list -> list.size() == 1);
        });
        assertThat(kills).as("workers killed mid-job").isGreaterThanOrEqualTo(2);
        for (int i = 0; i < jobs; i++) {
            List<JobResult> ofJob = results.get(harness.pool + "-j" + i);
            assertThat(ofJob).as("job %d", i).hasSize(1);
            assertThat(ofJob.getFirst().getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(ofJob.getFirst().getBody()).toString()).isEqualTo("payload " + i + "\n");
        }
    }
}
