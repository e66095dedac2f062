package io.wharf.rules;

import io.wharf.records.Job;
import io.wharf.records.JobPhase;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;

/**
 * The records of {@code wharf.status}: what the dispatcher and the worker write as a job moves, and how a reader
 * folds them, so that one rule holds wherever they are written or read.
 */
public final class JobStates {
    private JobStates() {
    }

    /** The job, now in {@code phase} (not final), with {@code reason} if any. */
    public static JobState of(Job job, JobPhase phase, long now, String reason) {
        return new JobState(job.getJobId(), job.getFunction().getName(), job.getTenant(), phase, false, job.getAttempt(),
                job.getEventCreatedAt().toEpochMilli(), now, null, null, null, reason, job.getCallback(), null,
                job.getTraceContext().get("traceparent"), null);
    }

    /** The state of an event's job before the dispatcher has it: QUEUED, written by whoever sent the event. */
    public static JobState of(io.wharf.records.Event event, long now) {
        return new JobState(event.getId(), event.getFunction(), event.getTenant(), JobPhase.QUEUED, false, 1,
                event.getCreatedAt().toEpochMilli(), now, event.getRunAt() == null ? null : event.getRunAt().toEpochMilli(), null, null, null,
                event.getCallback(), null, event.getHeaders().get("traceparent"), null);
    }

    /** The final state a result says; {@code job}, when the writer has it, adds the tenant (and the callback, else the result's). */
    public static JobState of(JobResult result, Job job, long now) {
        Long created = result.getTimings() == null ? null : result.getTimings().getEventCreatedAt();
        return new JobState(result.getJobId(), result.getFunction(), job == null ? null : job.getTenant(), phase(result.getStatus()), true,
                result.getAttempt(), created != null ? created : job == null ? null : job.getEventCreatedAt().toEpochMilli(), now, null,
                result.getWorkerId(), result.getExitCode(), result.getError(), job == null ? result.getCallback() : job.getCallback(), result.getUsage(),
                result.getTraceparent(), result.getTimings());
    }

    public static JobPhase phase(JobStatus status) {
        return JobPhase.valueOf(status.name()); // THROTTLED is both: a final THROTTLED result is a job refused past its backlog
    }

    public static boolean isFinal(JobState state) {
        return state.getDone();
    }

    /**
     * What a reader holds after {@code next} arrives over {@code current}: states written by different processes may
     * land out of order (a worker's running notice after its own final state), so a final state is never replaced by a
     * later attempt's or an earlier step's, and fields the newer writer did not know are kept.
     */
    public static JobState fold(JobState current, JobState next) {
        if (current == null) {
            return next;
        }
        if (isFinal(current) && !isFinal(next)) {
            return current;
        }
        if (!isFinal(next) && next.getAttempt() < current.getAttempt()) {
            return current;
        }
        JobState merged = JobState.newBuilder(next).build();
        if (merged.getTenant() == null) {
            merged.setTenant(current.getTenant());
        }
        if (merged.getCallback() == null) {
            merged.setCallback(current.getCallback());
        }
        if (merged.getEventCreatedAt() == null) {
            merged.setEventCreatedAt(current.getEventCreatedAt());
        }
        if (merged.getTraceparent() == null) {
            merged.setTraceparent(current.getTraceparent());
        }
        return merged;
    }

    /** A state as people and scripts read it (JSON keys, ISO times); {@code tenant} when the state does not name one. */
    public static java.util.Map<String, Object> describe(JobState s, String tenant) {
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("jobId", s.getJobId());
        out.put("function", s.getFunction());
        out.put("tenant", s.getTenant() != null ? s.getTenant() : tenant);
        out.put("status", s.getPhase().name());
        out.put("final", isFinal(s));
        out.put("attempt", s.getAttempt());
        out.put("createdAt", s.getEventCreatedAt() == null ? null : java.time.Instant.ofEpochMilli(s.getEventCreatedAt()).toString());
        out.put("updatedAt", java.time.Instant.ofEpochMilli(s.getUpdatedAt()).toString());
        out.put("runAt", s.getRunAt() == null ? null : java.time.Instant.ofEpochMilli(s.getRunAt()).toString());
        out.put("workerId", s.getWorkerId());
        out.put("exitCode", s.getExitCode());
        out.put("reason", s.getReason());
        out.put("usage", usage(s.getUsage()));
        out.put("traceparent", s.getTraceparent());
        out.put("timings", timings(s.getTimings()));
        return out;
    }

    /**
     * A final state's container lifetime as ISO times, the steps that happened only: queued (event created, enqueued,
     * dequeued), the image (pulled), the container (created, started, ready for an HTTP-server function, exited) and
     * the result (finished). Null before the job ends.
     */
    public static java.util.Map<String, Object> timings(io.wharf.records.Timings t) {
        if (t == null) {
            return null;
        }
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        for (org.apache.avro.Schema.Field field : t.getSchema().getFields()) {
            if (t.get(field.pos()) instanceof Long millis) {
                out.put(field.name(), java.time.Instant.ofEpochMilli(millis).toString());
            }
        }
        return out;
    }

    /** A job's resource use as people and scripts read it; null when it was not measured. */
    public static java.util.Map<String, Object> usage(io.wharf.records.ResourceUsage u) {
        if (u == null) {
            return null;
        }
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("cpuSeconds", u.getCpuSeconds());
        out.put("peakMemoryBytes", u.getPeakMemoryBytes());
        out.put("readBytes", u.getReadBytes());
        out.put("writtenBytes", u.getWrittenBytes());
        return out;
    }
}
