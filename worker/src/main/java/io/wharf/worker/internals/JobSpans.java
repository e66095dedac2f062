package io.wharf.worker.internals;

import java.util.concurrent.TimeUnit;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.wharf.ops.Traces;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.worker.runtime.RunOutcome;

/**
 * A job's spans at the worker, children of the dispatch span its job record carries: {@code queue} (from the
 * dispatcher writing the job to its container starting), {@code run} (the container, whose context it gets as
 * {@code TRACEPARENT}) and {@code result} (from its exit to the result written). Without a trace coming in and with
 * tracing off, there is none of them, and no {@code TRACEPARENT}.
 */
final class JobSpans {
    private final Job job;
    private final Span run;
    private final Tracer tracer;
    private final Context parent;

    private JobSpans(Tracer tracer, Job job) {
        this.tracer = tracer;
        this.job = job;
        this.parent = Traces.extract(job.getTraceContext());
        this.run = tracer.spanBuilder("run " + job.getFunction().getName()).setParent(parent)
                .setAttribute("wharf.job.id", job.getJobId()).setAttribute("wharf.function", job.getFunction().getName())
                .setAttribute("wharf.tenant", job.getTenant()).setAttribute("wharf.attempt", job.getAttempt()).startSpan();
    }

    static JobSpans start(Tracer tracer, Job job) {
        return new JobSpans(tracer, job);
    }

    /** The run's trace context, for the container and the result; null when there is none. */
    String traceparent() {
        String own = Traces.traceparent(run);
        return own != null ? own : job.getTraceContext().get(Traces.TRACEPARENT);
    }

    /** Ends the spans with what the run said (its times, status and use) and puts the trace context on the result. */
    JobResult ended(JobResult result, RunOutcome outcome) {
        long now = System.currentTimeMillis();
        long started = outcome != null && outcome.startedAt() > 0 ? outcome.startedAt() : now;
        long exited = outcome != null && outcome.exitedAt() > 0 ? outcome.exitedAt() : now;
        tracer.spanBuilder("queue " + job.getFunction().getName()).setParent(parent).setAttribute("wharf.job.id", job.getJobId())
                .setStartTimestamp(job.getEnqueuedAt().toEpochMilli(), TimeUnit.MILLISECONDS).startSpan().end(started, TimeUnit.MILLISECONDS);
        run.setAttribute("wharf.status", result.getStatus().name());
        if (result.getExitCode() != null) {
            run.setAttribute("wharf.exit_code", result.getExitCode());
        }
        if (result.getUsage() != null) {
            run.setAttribute("wharf.cpu_seconds", result.getUsage().getCpuSeconds());
            run.setAttribute("wharf.peak_memory_bytes", result.getUsage().getPeakMemoryBytes());
        }
        if (result.getStatus() != JobStatus.SUCCEEDED) {
            run.setStatus(StatusCode.ERROR, result.getError() == null ? result.getStatus().name() : result.getError());
        }
        run.end(exited, TimeUnit.MILLISECONDS);
        tracer.spanBuilder("result " + job.getFunction().getName()).setParent(parent).setAttribute("wharf.job.id", job.getJobId())
                .setStartTimestamp(exited, TimeUnit.MILLISECONDS).startSpan().end(now, TimeUnit.MILLISECONDS);
        result.setTraceparent(traceparent());
        return result;
    }
}
