package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.dispatcher.DispatcherTopology;
import io.wharf.records.Attempt;
import io.wharf.records.AttemptSummary;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.Ordering;
import io.wharf.records.Timings;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.AttemptRecords;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.Topics;

/**
 * Every decision about a function, in the one task that owns it: {@code wharf.events}, {@code wharf.attempts}
 * and {@code wharf.functions} are all keyed by function name and co-partitioned, so this task sees each event
 * and each outcome of its functions and keeps their limits exact without any coordination.
 *
 * <p>An event is validated, split if it fans out, delayed if it has a run-at time, then admitted: dispatched
 * at once when the function's rate limit and concurrency cap allow and nothing waits before it, otherwise held
 * in the pending store (released by priority, then arrival) or refused {@code THROTTLED} past the function's
 * backlog. Attempts reported by workers free concurrency slots and, when the worker left the decision here,
 * are retried after a backoff or finished. A wall-clock punctuator fires due timers and releases pending jobs.
 * Everything this writes (jobs, results, store updates) commits in one Streams transaction.
 */
public final class DispatchProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger log = LoggerFactory.getLogger(DispatchProcessor.class);
    /** The registry subject (as a topic name) under which jobs are serialized into state stores. */
    static final String STATE_TOPIC = "wharf.dispatcher.state";
    /** At most this many pending jobs are released, and timers fired, per punctuation, so one tick stays short. */
    static final int MAX_PER_TICK = 5_000;

    private final AvroDeserializer<Event> events;
    private final AvroDeserializer<Attempt> attempts;
    private final AvroDeserializer<Job> jobReader;
    private final AvroSerializer<Job> jobWriter;
    private final SpecCache specs;
    private final Duration tick;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, byte[]> limits;
    private KeyValueStore<String, byte[]> inflight;
    private Pending pending;
    private Timers timers;
    private FanOut fanOut;
    /** Functions of this task with jobs in the pending store (rebuilt from {@code limits} at start). */
    private final Set<String> waiting = new LinkedHashSet<>();

    public DispatchProcessor(SchemaRegistryClient registry, Duration tick) {
        this.events = new AvroDeserializer<>(registry, Event.class);
        this.attempts = new AvroDeserializer<>(registry, Attempt.class);
        this.jobReader = new AvroDeserializer<>(registry, Job.class);
        this.jobWriter = new AvroSerializer<>(registry);
        this.specs = new SpecCache(registry);
        this.tick = tick;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.specs.init(context.getStateStore(DispatcherTopology.FUNCTION_STORE));
        this.limits = context.getStateStore(DispatcherTopology.LIMITS_STORE);
        this.inflight = context.getStateStore(DispatcherTopology.INFLIGHT_STORE);
        this.pending = new Pending(context.getStateStore(DispatcherTopology.PENDING_STORE));
        this.timers = new Timers(context.getStateStore(DispatcherTopology.TIMERS_STORE));
        this.fanOut = new FanOut(context.getStateStore(DispatcherTopology.BATCHES_STORE));
        try (KeyValueIterator<String, byte[]> it = limits.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> entry = it.next();
                if (FunctionState.decode(entry.value).pending > 0) {
                    waiting.add(entry.key);
                }
            }
        }
        context.schedule(tick, PunctuationType.WALL_CLOCK_TIME, this::punctuate);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String topic = context.recordMetadata().map(m -> m.topic()).orElse(Topics.EVENTS);
        if (Topics.ATTEMPTS.equals(topic)) {
            onAttempt(record);
        } else {
            onEvent(record);
        }
    }

    // ---- events ---------------------------------------------------------------------------------------

    private void onEvent(Record<String, byte[]> record) {
        Event event;
        try {
            if (record.value() == null) {
                throw new IllegalArgumentException("the record has no value");
            }
            event = events.deserialize(Topics.EVENTS, record.value());
        } catch (RuntimeException e) {
            DeadLetters.refuse(context, record, DeadLetters.positionId(context), record.key(), JobStatus.REJECTED,
                    "Event could not be decoded: " + e.getMessage(), null);
            return;
        }
        String function = event.getFunction();
        String jobId = event.getId() == null || event.getId().isBlank() ? DeadLetters.positionId(context) : event.getId();
        long createdAt = event.getCreatedAt().toEpochMilli();
        if (function == null || function.isBlank()) {
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED, "Event " + jobId + " names no function", createdAt);
            return;
        }
        if (!function.equals(record.key())) {
            // The function's state lives in the task that owns its name; send the event there, untouched.
            context.forward(new Record<String, Object>(function, record.value(), record.timestamp(), record.headers()), DispatcherTopology.REKEY_SINK);
            return;
        }
        FunctionSpec spec = specs.get(function);
        Validation.Checked checked = Validation.check(event, jobId, spec);
        if (checked.error() != null) {
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED, checked.error(), createdAt);
            return;
        }
        long now = context.currentSystemTimeMs();
        int priority = event.getPriority() != null ? event.getPriority() : spec.getPriority();
        List<Job> jobs = new ArrayList<>();
        if (checked.elements() == null) {
            jobs.add(job(event, spec, jobId, event.getPayload(), priority, null, now));
        } else {
            List<ByteBuffer> elements = checked.elements();
            for (int i = 0; i < elements.size(); i++) {
                jobs.add(job(event, spec, FanOut.childId(jobId, i), elements.get(i), priority, jobId, now));
            }
            fanOut.start(jobId, elements.size());
        }
        long runAt = event.getRunAt() == null ? 0 : event.getRunAt().toEpochMilli();
        for (Job job : jobs) {
            if (runAt > now) {
                timers.schedule(runAt, Timers.Kind.JOB, job.getJobId() + "/1", jobWriter.serialize(STATE_TOPIC, job));
            } else {
                admit(spec, job, now);
            }
        }
    }

    private static Job job(Event event, FunctionSpec spec, String jobId, ByteBuffer payload, int priority, String parentId, long now) {
        long createdAt = event.getCreatedAt().toEpochMilli();
        Instant deadline = spec.getMaxJobAgeMillis() == null ? null
                : Instant.ofEpochMilli(Math.max(createdAt, event.getRunAt() == null ? 0 : event.getRunAt().toEpochMilli()) + spec.getMaxJobAgeMillis());
        // The all-fields constructor: a builder would deep-copy defaults and the spec on every event.
        return new Job(jobId, 1, spec, payload, event.getContentType(), event.getKey(), event.getCreatedAt(), Instant.ofEpochMilli(now),
                deadline, event.getHeaders(), priority, event.getTenant(), List.of(), parentId);
    }

    // ---- admission ------------------------------------------------------------------------------------

    /** Dispatches the job now if its function's limits allow and nothing waits before it; else holds or refuses it. */
    private void admit(FunctionSpec spec, Job job, long now) {
        String function = spec.getName();
        if (expired(job, now)) {
            expire(job, now);
            return;
        }
        boolean limited = spec.getRateLimit() != null || spec.getMaxConcurrency() != null;
        if (!limited && !waiting.contains(function)) {
            dispatch(spec, job, null, now);
            return;
        }
        FunctionState state = state(spec, now);
        if (state.pending == 0 && state.admits(spec)) {
            state.take(spec);
            dispatch(spec, job, state, now);
            limits.put(function, state.encode());
            return;
        }
        if (state.pending >= spec.getMaxPending()) {
            finish(result(job, JobStatus.THROTTLED, "Function '" + function + "' already holds " + state.pending
                    + " events waiting for its rate limit or concurrency cap (maxPending " + spec.getMaxPending()
                    + "): try again later", now), job, now);
            return;
        }
        Bytes key = Pending.key(function, Math.max(0, Math.min(2, job.getPriority())), state.sequence++);
        pending.put(key, jobWriter.serialize(STATE_TOPIC, job));
        state.pending++;
        limits.put(function, state.encode());
        waiting.add(function);
        if (job.getDeadline() != null) {
            timers.schedule(job.getDeadline().toEpochMilli() + 1, Timers.Kind.EXPIRE, job.getJobId(), key.get());
        }
    }

    private FunctionState state(FunctionSpec spec, long now) {
        byte[] bytes = limits.get(spec.getName());
        FunctionState state = bytes == null ? FunctionState.fresh(spec, now) : FunctionState.decode(bytes);
        state.refill(spec, now);
        return state;
    }

    private void dispatch(FunctionSpec spec, Job job, FunctionState state, long now) {
        if (spec.getMaxConcurrency() != null && state != null) {
            // Counted until the worker's attempt report for this very attempt arrives.
            inflight.put(inflightKey(spec.getName(), job.getJobId()), ByteBuffer.allocate(4).putInt(job.getAttempt()).array());
            state.inFlight++;
        }
        // A held or retried job runs with the function as it is now (updates apply to the next dispatch).
        job.setFunction(spec);
        job.setEnqueuedAt(Instant.ofEpochMilli(now));
        String key = spec.getOrdering() == Ordering.KEY && job.getKey() != null ? job.getKey() : job.getJobId();
        context.forward(new Record<String, Object>(key, job, now), DispatcherTopology.JOBS_SINK);
    }

    private static String inflightKey(String function, String jobId) {
        return function + '\u0000' + jobId;
    }

    /** Releases a function's pending jobs, by priority then arrival, while its limits allow. */
    private int release(String function, long now, int budget) {
        FunctionSpec spec = specs.get(function);
        byte[] bytes = limits.get(function);
        if (bytes == null) {
            waiting.remove(function);
            return 0;
        }
        FunctionState state = FunctionState.decode(bytes);
        int released = 0;
        if (spec != null) {
            state.refill(spec, now);
        }
        while (released < budget && state.pending > 0 && (spec == null || state.admits(spec))) {
            List<KeyValue<Bytes, byte[]>> head = pending.head(function, Math.min(500, budget - released));
            if (head.isEmpty()) {
                state.pending = 0; // the count drifted from the store (it cannot, but never spin on it)
                break;
            }
            for (KeyValue<Bytes, byte[]> entry : head) {
                if (released >= budget || (spec != null && !state.admits(spec))) {
                    break;
                }
                pending.remove(entry.key);
                state.pending--;
                released++;
                Job job = jobReader.deserialize(STATE_TOPIC, entry.value);
                if (job.getDeadline() != null) {
                    timers.cancel(job.getDeadline().toEpochMilli() + 1, Timers.Kind.EXPIRE, job.getJobId());
                }
                if (spec == null) {
                    finish(result(job, JobStatus.REJECTED, "Function '" + function + "' was deleted while the job waited", now), job, now);
                } else if (expired(job, now)) {
                    expire(job, now);
                } else {
                    state.take(spec);
                    dispatch(spec, job, state, now);
                }
            }
        }
        limits.put(function, state.encode());
        if (state.pending == 0) {
            waiting.remove(function);
        }
        return released;
    }

    private static boolean expired(Job job, long now) {
        return job.getDeadline() != null && now > job.getDeadline().toEpochMilli();
    }

    private void expire(Job job, long now) {
        long age = now - job.getEventCreatedAt().toEpochMilli();
        String reason = "Job " + job.getJobId() + " expired: it would have started " + age + " ms after its event, past function '"
                + job.getFunction().getName() + "''s maxJobAgeMillis of " + job.getFunction().getMaxJobAgeMillis();
        finish(result(job, JobStatus.EXPIRED, reason, now), job, now);
        forwardDeadLetter(job, JobStatus.EXPIRED, reason, now);
    }

    // ---- attempts -------------------------------------------------------------------------------------

    private void onAttempt(Record<String, byte[]> record) {
        Attempt attempt;
        try {
            attempt = attempts.deserialize(Topics.ATTEMPTS, record.value());
        } catch (RuntimeException e) {
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), record.key(), JobStatus.FAILED,
                    "Attempt report could not be decoded: " + e.getMessage());
            return;
        }
        long now = context.currentSystemTimeMs();
        JobResult outcome = attempt.getOutcome();
        String function = outcome.getFunction();
        byte[] counted = inflight.get(inflightKey(function, outcome.getJobId()));
        if (counted != null && ByteBuffer.wrap(counted).getInt() == outcome.getAttempt()) {
            inflight.delete(inflightKey(function, outcome.getJobId()));
            byte[] bytes = limits.get(function);
            if (bytes != null) {
                FunctionState state = FunctionState.decode(bytes);
                state.inFlight = Math.max(0, state.inFlight - 1);
                limits.put(function, state.encode());
                if (state.pending > 0) {
                    release(function, now, MAX_PER_TICK);
                }
            }
        }
        if (attempt.getFinished() || attempt.getJob() == null) {
            afterFinal(outcome, attempt.getTraceContext(), now);
            return;
        }
        Job job = attempt.getJob();
        List<AttemptSummary> history = new ArrayList<>(job.getHistory());
        history.add(AttemptRecords.summary(outcome));
        if (Retries.shouldRetry(job.getFunction().getRetry(), outcome)) {
            long delay = Retries.backoffMillis(job.getFunction().getRetry(), outcome.getAttempt());
            Job next = Job.newBuilder(job).setAttempt(outcome.getAttempt() + 1).setHistory(history).build();
            timers.schedule(now + delay, Timers.Kind.JOB, next.getJobId() + "/" + next.getAttempt(), jobWriter.serialize(STATE_TOPIC, next));
            log.debug("Job {} attempt {} {}: retrying in {} ms", job.getJobId(), outcome.getAttempt(), outcome.getStatus(), delay);
            return;
        }
        JobResult.Builder last = JobResult.newBuilder(outcome).setHistory(history).setParentId(job.getParentId());
        if (Retries.retryable(job.getFunction().getRetry(), outcome)) {
            String reason = "Gave up after " + outcome.getAttempt() + " attempts (retry.maxAttempts " + job.getFunction().getRetry().getMaxAttempts()
                    + "); the last one ended " + outcome.getStatus() + (outcome.getError() == null ? "" : ": " + outcome.getError());
            last.setStatus(JobStatus.FAILED).setError(reason);
            JobResult result = last.build();
            context.forward(new Record<String, Object>(result.getJobId(), result, now), DispatcherTopology.RESULTS_SINK);
            DeadLetters.deadLetter(context, record, job.getJobId(), function, JobStatus.FAILED, reason);
            afterFinal(result, attempt.getTraceContext(), now);
            return;
        }
        JobResult result = last.build();
        context.forward(new Record<String, Object>(result.getJobId(), result, now), DispatcherTopology.RESULTS_SINK);
        afterFinal(result, attempt.getTraceContext(), now);
    }

    /** What follows a job's final result: its fan-out batch may be complete, and chained functions run. */
    private void afterFinal(JobResult result, Map<String, String> trace, long now) {
        if (result.getParentId() != null) {
            JobResult aggregate = fanOut.complete(result, now);
            if (aggregate != null) {
                context.forward(new Record<String, Object>(aggregate.getJobId(), aggregate, now), DispatcherTopology.RESULTS_SINK);
            }
        }
        FunctionSpec spec = specs.get(result.getFunction());
        if (spec == null) {
            return;
        }
        List<String> next = result.getStatus() == JobStatus.SUCCEEDED ? spec.getOnSuccess()
                : result.getStatus() == JobStatus.CANCELLED ? List.of() : spec.getOnFailure();
        for (String target : next) {
            Event chained = Chains.event(result, target, spec.getTenant(), trace, now);
            context.forward(new Record<String, Object>(target, chained, now), DispatcherTopology.EVENTS_SINK);
        }
    }

    // ---- timers ---------------------------------------------------------------------------------------

    private void punctuate(long now) {
        for (Timers.Timer timer : timers.due(now, MAX_PER_TICK)) {
            switch (timer.kind()) {
                case JOB -> {
                    Job job = jobReader.deserialize(STATE_TOPIC, timer.value());
                    FunctionSpec spec = specs.get(job.getFunction().getName());
                    if (spec == null || !spec.getEnabled()) {
                        finish(result(job, JobStatus.REJECTED, "Function '" + job.getFunction().getName()
                                + "' was deleted or disabled before attempt " + job.getAttempt() + " was due", now), job, now);
                    } else {
                        admit(spec, job, now);
                    }
                }
                case EXPIRE -> {
                    byte[] bytes = pending.remove(Bytes.wrap(timer.value()));
                    if (bytes != null) {
                        Job job = jobReader.deserialize(STATE_TOPIC, bytes);
                        byte[] stateBytes = limits.get(job.getFunction().getName());
                        if (stateBytes != null) {
                            FunctionState state = FunctionState.decode(stateBytes);
                            state.pending = Math.max(0, state.pending - 1);
                            limits.put(job.getFunction().getName(), state.encode());
                        }
                        expire(job, now);
                    }
                }
                case SCHEDULE -> log.warn("Schedule timer {} found in the dispatch timers: ignored", timer.id());
            }
        }
        int budget = MAX_PER_TICK;
        for (String function : List.copyOf(waiting)) {
            if (budget <= 0) {
                break;
            }
            budget -= release(function, now, budget);
        }
    }

    // ---- results --------------------------------------------------------------------------------------

    private JobResult result(Job job, JobStatus status, String error, long now) {
        return JobResult.newBuilder()
                .setJobId(job.getJobId())
                .setFunction(job.getFunction().getName())
                .setAttempt(job.getAttempt())
                .setStatus(status)
                .setError(error)
                .setHistory(job.getHistory())
                .setParentId(job.getParentId())
                .setTimings(Timings.newBuilder().setEventCreatedAt(job.getEventCreatedAt().toEpochMilli()).setFinishedAt(now).build())
                .setCompletedAt(Instant.ofEpochMilli(now))
                .build();
    }

    /** A final result decided here (throttled, expired, function gone). */
    private void finish(JobResult result, Job job, long now) {
        context.forward(new Record<String, Object>(result.getJobId(), result, now), DispatcherTopology.RESULTS_SINK);
        if (result.getParentId() != null) {
            JobResult aggregate = fanOut.complete(result, now);
            if (aggregate != null) {
                context.forward(new Record<String, Object>(aggregate.getJobId(), aggregate, now), DispatcherTopology.RESULTS_SINK);
            }
        }
    }

    private void forwardDeadLetter(Job job, JobStatus status, String reason, long now) {
        DeadLetter letter = DeadLetterRecords.of(job.getJobId(), job.getFunction().getName(), status, reason, STATE_TOPIC, -1, -1,
                job.getJobId(), jobWriter.serialize(STATE_TOPIC, job), now);
        context.forward(new Record<String, Object>(job.getJobId(), letter, now), DispatcherTopology.DLQ_SINK);
    }
}
