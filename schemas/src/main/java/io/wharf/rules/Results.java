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

    /** A job's resource use in words, e.g. {@code CPU 1.02 s, peak memory 101.3 MiB, read 0 B, written 4.0 KiB}; "-" when not measured. */
    public static String usage(io.wharf.records.ResourceUsage u) {
        if (u == null) {
            return "-";
        }
        return String.format(java.util.Locale.ROOT, "CPU %.2f s, peak memory %s, read %s, written %s", u.getCpuSeconds(), bytes(u.getPeakMemoryBytes()),
                bytes(u.getReadBytes()), bytes(u.getWrittenBytes()));
    }

    /** Bytes in binary units, one decimal: {@code 0 B}, {@code 4.0 KiB}, {@code 101.3 MiB}. */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[i]);
    }
}
