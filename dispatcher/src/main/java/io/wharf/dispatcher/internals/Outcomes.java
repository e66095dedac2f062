package io.wharf.dispatcher.internals;

import java.util.List;
import java.util.Map;

import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.ops.JobLogs;
import io.wharf.records.Attempt;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobPhase;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;
import io.wharf.rules.JobStates;
import io.wharf.rules.Results;
import io.wharf.rules.Retries;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.Topics;

/**
 * What follows a job's attempt, in the task that owns its function ({@link DispatchProcessor}'s other half): a
 * worker's report frees the attempt's slot, then the attempt is retried after its backoff or its final result is
 * written; a final result may complete its fan-out batch and starts the functions chained to it.
 */
final class Outcomes {
    private static final Logger log = LoggerFactory.getLogger(Outcomes.class);
    private static final String STATE_TOPIC = DispatchProcessor.STATE_TOPIC;

    private final ProcessorContext<String, Object> context;
    private final AvroDeserializer<Attempt> attempts;
    private final SpecCache specs;
    private final Admission admission;
    private final TenantLimits tenants;
    private final Timers timers;
    private final Wakeup wakeup;
    private final FanOut fanOut;
    private final AvroSerializer<Job> jobWriter;
    private final Admission.Outlet outlet;

    Outcomes(ProcessorContext<String, Object> context, AvroDeserializer<Attempt> attempts, SpecCache specs, Admission admission,
             TenantLimits tenants, Timers timers, Wakeup wakeup, FanOut fanOut, AvroSerializer<Job> jobWriter, Admission.Outlet outlet) {
        this.context = context;
        this.attempts = attempts;
        this.specs = specs;
        this.admission = admission;
        this.tenants = tenants;
        this.timers = timers;
        this.wakeup = wakeup;
        this.fanOut = fanOut;
        this.jobWriter = jobWriter;
        this.outlet = outlet;
    }

    /** A worker's report of an attempt, as read from wharf.attempts (dead-lettered if it cannot be decoded). */
    void onAttempt(Record<String, byte[]> record) {
        Attempt attempt;
        try {
            attempt = attempts.deserialize(Topics.ATTEMPTS, record.value());
        } catch (RuntimeException e) {
            if (SchemaRegistryException.isUnavailable(e)) {
                throw e;
            }
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), record.key(), JobStatus.FAILED,
                    "Attempt report could not be decoded: " + e.getMessage());
            return;
        }
        JobResult outcome = attempt.getOutcome();
        try (JobLogs.Scope logs = JobLogs.of(outcome.getJobId(), outcome.getFunction(), attempt.getJob() == null ? null : attempt.getJob().getTenant())) {
            onAttempt(record, attempt, outcome);
        }
    }

    /** A worker's report of an attempt: frees its slot, retries it or writes its final result. */
    private void onAttempt(Record<String, byte[]> record, Attempt attempt, JobResult outcome) {
        long now = context.currentSystemTimeMs();
        String function = outcome.getFunction();
        if (admission.finished(function, outcome.getJobId(), outcome.getAttempt())) {
            FunctionSpec spec = specs.get(function);
            admission.release(function, spec == null ? null : LimitState.Limits.of(spec), now, DispatchProcessor.MAX_PER_TICK, outlet);
        }
        FunctionSpec current = specs.get(function);
        String tenant = current != null ? current.getTenant() : attempt.getJob() != null ? attempt.getJob().getTenant() : null;
        if (tenant != null && tenants.limited(tenant)) {
            // The tenant's stage counts this job too: tell it the attempt ended.
            context.forward(new Record<String, Object>(tenant, TenantProcessor.finishedNotice(outcome.getJobId(), outcome.getAttempt()), now)
                    .withHeaders(TenantProcessor.finishedHeaders()), Names.TENANT_SINK);
        }
        if (attempt.getFinished() || attempt.getJob() == null) {
            afterFinal(outcome, attempt.getTraceContext(), now);
            return;
        }
        Job job = attempt.getJob();
        if (Retries.shouldRetry(job.getFunction().getRetry(), outcome)) {
            long delay = Retries.backoffMillis(job.getFunction().getRetry(), outcome.getAttempt());
            Job next = Job.newBuilder(job).setAttempt(outcome.getAttempt() + 1).setHistory(Results.history(job, outcome)).build();
            timers.schedule(now + delay, Timers.Kind.JOB, next.getJobId() + "/" + next.getAttempt(), jobWriter.serialize(STATE_TOPIC, next));
            wakeup.atOrBefore(now + delay, now);
            status(JobStates.of(next, JobPhase.RETRYING, now, "Attempt " + outcome.getAttempt() + " ended " + outcome.getStatus()
                    + (outcome.getError() == null ? "" : ": " + outcome.getError())), now + delay);
            log.debug("Job {} attempt {} {}: retrying in {} ms", job.getJobId(), outcome.getAttempt(), outcome.getStatus(), delay);
            return;
        }
        JobResult.Builder last = JobResult.newBuilder(outcome).setHistory(Results.finalHistory(job, outcome)).setParentId(job.getParentId());
        if (Retries.retryable(job.getFunction().getRetry(), outcome)) {
            String reason = "Gave up after " + outcome.getAttempt() + " attempts (retry.maxAttempts " + job.getFunction().getRetry().getMaxAttempts()
                    + "); the last one ended " + outcome.getStatus() + (outcome.getError() == null ? "" : ": " + outcome.getError());
            last.setStatus(JobStatus.FAILED).setError(reason);
            JobResult result = last.build();
            context.forward(new Record<String, Object>(result.getJobId(), result, now), Names.RESULTS_SINK);
            DeadLetters.deadLetter(context, record, job.getJobId(), function, JobStatus.FAILED, reason);
            afterFinal(result, attempt.getTraceContext(), now);
            return;
        }
        JobResult result = last.build();
        context.forward(new Record<String, Object>(result.getJobId(), result, now), Names.RESULTS_SINK);
        afterFinal(result, attempt.getTraceContext(), now);
    }

    /** What follows a job's final result: its fan-out batch may be complete, and chained functions run. */
    private void afterFinal(JobResult result, Map<String, String> trace, long now) {
        if (result.getParentId() != null) {
            JobResult aggregate = fanOut.complete(result, now);
            if (aggregate != null) {
                context.forward(new Record<String, Object>(aggregate.getJobId(), aggregate, now), Names.RESULTS_SINK);
            }
        }
        FunctionSpec spec = specs.get(result.getFunction());
        if (spec == null) {
            return;
        }
        // Chains follow runs: not jobs that never ran (throttled, expired, refused) nor cancelled ones.
        List<String> next = switch (result.getStatus()) {
            case SUCCEEDED -> spec.getOnSuccess();
            case FAILED, TIMED_OUT, OOM_KILLED -> spec.getOnFailure();
            default -> List.of();
        };
        for (String target : next) {
            Event chained = Chains.event(result, target, spec.getTenant(), trace, now);
            FunctionSpec targetSpec = specs.get(target);
            if (targetSpec != null && targetSpec.getPayloadKey() != null) { // a function with a key takes sealed payloads only
                chained = PayloadEnvelope.sealed(chained, PayloadEnvelope.publicKey(targetSpec.getPayloadKey()));
            }
            context.forward(new Record<String, Object>(target, chained, now), Names.EVENTS_SINK);
        }
    }

    private void status(JobState state, Long runAt) {
        DispatchProcessor.status(context, state, runAt);
    }

    /** A final result decided here (throttled, expired, function gone). */
    void finish(JobResult result, long now) {
        context.forward(new Record<String, Object>(result.getJobId(), result, now), Names.RESULTS_SINK);
        if (result.getParentId() != null) {
            JobResult aggregate = fanOut.complete(result, now);
            if (aggregate != null) {
                context.forward(new Record<String, Object>(aggregate.getJobId(), aggregate, now), Names.RESULTS_SINK);
            }
        }
    }
}
