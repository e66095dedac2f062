package io.wharf.rules;

import java.util.concurrent.ThreadLocalRandom;

import io.wharf.records.JobResult;
import io.wharf.records.RetryPolicy;

/**
 * A function's retry policy, applied to one attempt's outcome: the one rule the worker (report the attempt or write
 * the final result) and the dispatcher (retry, or give up) both follow.
 */
public final class Retries {
    private Retries() {
    }

    /** Whether the policy asks for another attempt after this one. */
    public static boolean shouldRetry(RetryPolicy policy, JobResult outcome) {
        if (policy == null || outcome.getAttempt() >= policy.getMaxAttempts()) {
            return false;
        }
        if (!policy.getRetryOnStatuses().contains(outcome.getStatus().name())) {
            return false;
        }
        return policy.getRetryOnExitCodes().isEmpty()
                || (outcome.getExitCode() != null && policy.getRetryOnExitCodes().contains(outcome.getExitCode()));
    }

    /** Whether the policy could retry this outcome at all, had attempts remained (so giving up is "exhausted"). */
    public static boolean retryable(RetryPolicy policy, JobResult outcome) {
        return policy != null && policy.getMaxAttempts() > 1
                && shouldRetry(RetryPolicy.newBuilder(policy).setMaxAttempts(Integer.MAX_VALUE).build(), outcome);
    }

    /**
     * Delay before attempt {@code failedAttempt + 1}: initial x multiplier^(failedAttempt-1), capped at the
     * maximum, then spread uniformly within +-jitter so that jobs failing together do not retry together.
     */
    public static long backoffMillis(RetryPolicy policy, int failedAttempt) {
        double base = policy.getInitialBackoffMillis() * Math.pow(Math.max(1.0, policy.getMultiplier()), Math.max(0, failedAttempt - 1));
        double capped = Math.min(base, policy.getMaxBackoffMillis());
        double jitter = Math.max(0.0, Math.min(1.0, policy.getJitter()));
        double factor = jitter == 0 ? 1.0 : 1.0 + ThreadLocalRandom.current().nextDouble(-jitter, jitter);
        return Math.max(0L, Math.min(policy.getMaxBackoffMillis(), Math.round(capped * factor)));
    }
}
