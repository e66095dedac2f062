package io.wharf.topics;

import io.wharf.records.AttemptSummary;
import io.wharf.records.JobResult;

/** The line an attempt leaves in a retried job's history, the same whether the worker or the dispatcher writes it. */
public final class AttemptRecords {
    private AttemptRecords() {
    }

    public static AttemptSummary summary(JobResult outcome) {
        return AttemptSummary.newBuilder()
                .setAttempt(outcome.getAttempt())
                .setStatus(outcome.getStatus())
                .setExitCode(outcome.getExitCode())
                .setError(outcome.getError())
                .setWorkerId(outcome.getWorkerId())
                .setStartedAt(outcome.getTimings() == null ? null : outcome.getTimings().getStartedAt())
                .setFinishedAt(outcome.getCompletedAt().toEpochMilli())
                .build();
    }
}
