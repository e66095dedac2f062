package io.wharf.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.RetryPolicy;

class RetriesTest {
    @Test
    void backoffGrowsWithJitterWithinItsBoundsAndStopsAtTheMaximum() {
        RetryPolicy retry = RetryPolicy.newBuilder().setMaxAttempts(10).setInitialBackoffMillis(1000).setMultiplier(3.0)
                .setMaxBackoffMillis(5000).setJitter(0.2).build();
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 500; i++) {
            long first = Retries.backoffMillis(retry, 1);
            min = Math.min(min, first);
            max = Math.max(max, first);
            assertThat(first).isBetween(800L, 1200L);
            assertThat(Retries.backoffMillis(retry, 2)).isBetween(2400L, 3600L);
            assertThat(Retries.backoffMillis(retry, 3)).isBetween(4000L, 5000L);
        }
        assertThat(max - min).as("jitter spreads the delays").isGreaterThan(200L);
    }

    @Test
    void retriesOnlyChosenStatusesAndExitCodesWhileAttemptsRemain() {
        RetryPolicy policy = RetryPolicy.newBuilder().setMaxAttempts(3).setRetryOnExitCodes(List.of(75)).build();
        assertThat(Retries.shouldRetry(policy, outcome(1, JobStatus.FAILED, 75))).isTrue();
        assertThat(Retries.shouldRetry(policy, outcome(1, JobStatus.FAILED, 1))).isFalse();
        assertThat(Retries.shouldRetry(policy, outcome(3, JobStatus.FAILED, 75))).isFalse();
        assertThat(Retries.retryable(policy, outcome(3, JobStatus.FAILED, 75))).isTrue();
        assertThat(Retries.shouldRetry(policy, outcome(1, JobStatus.OOM_KILLED, 75))).isFalse();
        assertThat(Retries.shouldRetry(null, outcome(1, JobStatus.FAILED, 75))).isFalse();
    }

    private static JobResult outcome(int attempt, JobStatus status, Integer exitCode) {
        return JobResult.newBuilder().setJobId("j").setFunction("f").setAttempt(attempt).setStatus(status).setExitCode(exitCode)
                .setCompletedAt(Instant.EPOCH).build();
    }
}
