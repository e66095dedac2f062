package io.wharf.rules;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.wharf.records.AttemptSummary;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;

/** How a job's result is made, the same whether the worker (it ran) or the dispatcher (it did not, or gave up) writes it. */
public final class Results {
    private Results() {
    }

    /** What every result carries: the job's identity and parent, its status, and when it completed. */
    public static JobResult.Builder of(Job job, JobStatus status, String error, long now) {
        return JobResult.newBuilder()
                .setJobId(job.getJobId())
                .setFunction(job.getFunction().getName())
                .setAttempt(job.getAttempt())
                .setStatus(status)
                .setError(error)
                .setParentId(job.getParentId())
                .setCallback(job.getCallback())
                .setCompletedAt(Instant.ofEpochMilli(now));
    }

    /** The job's attempts so far, this one included: the history its next attempt carries. */
    public static List<AttemptSummary> history(Job job, JobResult outcome) {
        List<AttemptSummary> history = new ArrayList<>(job.getHistory());
        history.add(summary(outcome));
        return history;
    }

    /** The history a final result carries: every attempt of a retried job, none for a job that ran once. */
    public static List<AttemptSummary> finalHistory(Job job, JobResult outcome) {
        return job.getHistory().isEmpty() ? List.of() : history(job, outcome);
    }

    /** The line an attempt leaves in a retried job's history. */
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
