package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.embedded.LocalImages;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;

/**
 * Over a thousand jobs finish above one slow job of the same partition, so its committed offset stays below them
 * all, and then the worker is SIGKILLed: the next owner must know from the commit which of them are done, and
 * every job ends with exactly one committed result.
 */
class SlowJobCrashIT {
    private static final int QUICK = 1_200;
    private final WorkerHarness harness = new WorkerHarness(1);
    private final String doomed = "doomed-" + harness.pool;
    private Process worker;

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void everyJobHasExactlyOneResultWhenAWorkerDiesWithAThousandFinishedAboveASlowOne() throws Exception {
        LocalImages.hotEcho(harness.docker);
        FunctionSpec slow = harness.function(harness.pool + "-slow").setCommand(List.of("sh", "-c", "sleep 60; echo slow"))
                .setTimeoutMillis(120_000).build();
        FunctionSpec quick = harness.function(harness.pool + "-quick").setImage(LocalImages.HOT_ECHO).setCommand(List.of())
                .setHot(HotSettings.newBuilder().build()).build();
        List<Job> jobs = new ArrayList<>();
        jobs.add(harness.job(harness.pool + "-slow", slow, new byte[0]));
        for (int i = 0; i < QUICK; i++) {
            jobs.add(harness.job(harness.pool + "-q" + i, quick, ("q" + i).getBytes(StandardCharsets.UTF_8)));
        }
        harness.submitAll(jobs);

        worker = harness.startWorkerProcess(doomed, 4);
        Map<String, Integer> results = new HashMap<>();
        // As many finish above the slow job as its partition's commit can list; the rest wait for it.
        await().atMost(Duration.ofSeconds(240)).until(() -> {
            harness.poll().forEach(r -> results.merge(r.getJobId(), 1, Integer::sum));
            return results.size() >= 1_100;
        });
        assertThat(results).doesNotContainKey(harness.pool + "-slow");
        worker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        int beforeCrash = results.size();

        harness.startWorker("survivor-" + harness.pool, 4);
        await().atMost(Duration.ofSeconds(240)).until(() -> {
            harness.poll().forEach(r -> results.merge(r.getJobId(), 1, Integer::sum));
            return results.size() == QUICK + 1;
        });
        System.out.printf("%d jobs finished above the slow one before the crash; all %d have results%n", beforeCrash, results.size());
        Map<String, Integer> all = new HashMap<>();
        harness.allResults().forEach(r -> all.merge(r.getJobId(), 1, Integer::sum));
        assertThat(all).hasSize(QUICK + 1);
        assertThat(all.values()).as("results per job").containsOnly(1);
        assertThat(harness.allResults().stream().filter(r -> r.getJobId().equals(harness.pool + "-slow")).findFirst().orElseThrow()
                .getStatus()).isEqualTo(JobStatus.SUCCEEDED);
    }
}
