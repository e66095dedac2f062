package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.Ordering;
import io.wharf.records.Timings;

/** Many jobs of one partition at once; with ordering=KEY, one key's jobs strictly one after another. */
class OrderingIT {
    private final WorkerHarness harness = new WorkerHarness(1);

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void shouldRunJobsOfOneKeyInTurnWhileOtherKeysOverlap() {
        harness.startWorker("w-order-" + harness.pool, 6);
        FunctionSpec fn = harness.function(harness.pool + "-ordered").setOrdering(Ordering.KEY)
                .setCommand(List.of("sh", "-c", "sleep 1")).build();
        List<String> keys = List.of("A", "B", "C");
        for (int i = 0; i < 4; i++) {
            for (String key : keys) {
                Instant now = Instant.now();
                Job job = Job.newBuilder().setJobId(harness.pool + "-" + key + i).setFunction(fn).setKey(key)
                        .setPayload(ByteBuffer.allocate(0)).setEventCreatedAt(now).setEnqueuedAt(now).build();
                harness.submit(job, key);
            }
        }
        List<JobResult> results = new ArrayList<>();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ZERO).until(() -> {
            results.addAll(harness.poll());
            return results.size() >= 12;
        });
        Map<String, List<JobResult>> byKey = results.stream()
                .collect(Collectors.groupingBy(r -> r.getJobId().substring(harness.pool.length() + 1, harness.pool.length() + 2)));
        for (String key : keys) {
            List<JobResult> ofKey = byKey.get(key).stream().sorted(Comparator.comparing(r -> r.getTimings().getStartedAt())).toList();
            assertThat(ofKey).extracting(JobResult::getJobId).as("key %s runs in submission order", key)
                    .containsExactly(harness.pool + "-" + key + "0", harness.pool + "-" + key + "1", harness.pool + "-" + key + "2",
                            harness.pool + "-" + key + "3");
            for (int i = 1; i < ofKey.size(); i++) {
                Timings previous = ofKey.get(i - 1).getTimings();
                assertThat(ofKey.get(i).getTimings().getStartedAt()).as("key %s job %d starts after job %d exited", key, i, i - 1)
                        .isGreaterThanOrEqualTo(previous.getExitedAt());
            }
        }
        JobResult a0 = byKey.get("A").stream().filter(r -> r.getJobId().endsWith("-A0")).findFirst().orElseThrow();
        JobResult b0 = byKey.get("B").stream().filter(r -> r.getJobId().endsWith("-B0")).findFirst().orElseThrow();
        assertThat(b0.getTimings().getStartedAt()).as("different keys overlap").isLessThan(a0.getTimings().getExitedAt());
    }

    @Test
    void shouldRunManyJobsOfOnePartitionAtOnce() {
        harness.startWorker("w-par-" + harness.pool, 6);
        FunctionSpec fn = harness.function(harness.pool + "-parallel").setCommand(List.of("sh", "-c", "sleep 2")).build();
        for (int i = 0; i < 6; i++) {
            harness.submit(harness.job(harness.pool + "-p" + i, fn, new byte[0]));
        }
        List<JobResult> results = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
            results.addAll(harness.poll());
            return results.size() >= 6;
        });
        long firstExit = results.stream().mapToLong(r -> r.getTimings().getExitedAt()).min().orElseThrow();
        assertThat(results).as("all six started before the first ended, from one partition")
                .allSatisfy(r -> assertThat(r.getTimings().getStartedAt()).isLessThan(firstExit));
    }
}
