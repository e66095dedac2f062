package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.wharf.ops.JobLogs;
import io.wharf.ops.Traces;
import io.wharf.records.Attempt;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobPhase;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;
import io.wharf.records.Ordering;
import io.wharf.records.Timings;
import io.wharf.rules.Results;
import io.wharf.rules.JobStates;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;

/**
 * Every decision about a function, in the one task that owns it: {@code wharf.events}, {@code wharf.attempts}
 * and {@code wharf.functions} are all keyed by function name and co-partitioned, so this task sees each event
 * and each outcome of its functions and keeps their limits exact without any coordination.
 *
 * <p>An event found on another partition than its function's (see {@link Placement}) or under another key is
 * first moved to its function's partition. There it is validated, split if it fans out, delayed if it has a
 * run-at time, then admitted: dispatched at once when the function's rate limit and concurrency cap allow and
 * nothing waits before it, otherwise held in the pending store (released by priority, then arrival) or refused
 * {@code THROTTLED} past the function's backlog. Attempts reported by workers go to {@link Outcomes}: they free
 * concurrency slots and, when the worker left the decision here, are retried after a backoff or finished. A
 * wall-clock punctuator fires due timers and releases pending jobs.
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
    private final SchemaRegistryClient registry;
    private final Placement placement;
    /** A job record must fit its pool's topic: one the broker refuses would fail the task's transaction, over and over. */
    private final TopicLimits limits;
    private ProcessorContext<String, Object> context;
    private Timers timers;
    private FanOut fanOut;
    private Admission admission;
    private TenantLimits tenants;
    private Wakeup wakeup;
    private Outcomes outcomes;
    private final Duration dedupeWindow;
    private Dedupe dedupe;
    /** Where a job goes once its function's limits let it out. */
    /** The job being admitted, and whether its function's limits let it out or refused it at once (else it is held: THROTTLED). */
    private Job admitting;
    private boolean admittedOut;
    private final Admission.Outlet outlet = new Admission.Outlet() {
        @Override
        public void dispatch(Job job, long now) {
            route(job, now);
        }

        @Override
        public void result(Job job, JobResult result, long now) {
            admittedOut |= job == admitting; // refused: decided, not held
            outcomes.finish(result, now);
        }

        @Override
        public void deadLetter(Job job, DeadLetter letter, long now) {
            context.forward(new Record<String, Object>(job.getJobId(), letter, now), Names.DLQ_SINK);
        }
    };

    private final DispatcherMeters meters;

    private final Tracer tracer;

    public DispatchProcessor(SchemaRegistryClient registry, Duration tick, Placement placement, TopicLimits limits, Duration dedupeWindow,
                             DispatcherMeters meters, Tracer tracer) {
        this.meters = meters;
        this.tracer = tracer;
        this.placement = placement;
        this.dedupeWindow = dedupeWindow;
        this.limits = limits;
        this.events = new AvroDeserializer<>(registry, Event.class);
        this.attempts = new AvroDeserializer<>(registry, Attempt.class);
        this.jobReader = new AvroDeserializer<>(registry, Job.class);
        this.jobWriter = new AvroSerializer<>(registry);
        this.specs = new SpecCache(registry);
        this.tick = tick;
        this.registry = registry;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.specs.init(context.getStateStore(Names.FUNCTION_STORE));
        this.timers = new Timers(context.getStateStore(Names.TIMERS_STORE));
        this.fanOut = new FanOut(context.getStateStore(Names.BATCHES_STORE));
        this.dedupe = new Dedupe(dedupeWindow.isZero() ? null : context.getStateStore(Names.DEDUPE_STORE), dedupeWindow);
        this.admission = new Admission("Function", context.getStateStore(Names.LIMITS_STORE),
                context.getStateStore(Names.INFLIGHT_STORE), new Pending(context.getStateStore(Names.PENDING_STORE), meters, DispatcherMeters.PENDING),
                timers, new SlotLeases(limits), jobWriter, jobReader);
        this.tenants = new TenantLimits(registry, context.getStateStore(Names.TENANTS_STORE));
        this.wakeup = new Wakeup(context, tick, this::punctuate, late -> meters.late("dispatch", late));
        this.outcomes = new Outcomes(context, attempts, specs, admission, tenants, timers, wakeup, fanOut, jobWriter, outlet);
        rearm(context.currentSystemTimeMs());
    }

    @Override
    public void close() {
        if (admission != null) {
            admission.close();
        }
    }

    /** Punctuate every tick while jobs are held (tokens refill), else at the next timer, else not at all. */
    private void rearm(long now) {
        wakeup.rearm(now, admission.anyWaiting(), admission.anyWaiting() ? null : timers.firstDue());
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String topic = context.recordMetadata().map(m -> m.topic()).orElse(Topics.EVENTS);
        if (Topics.ATTEMPTS.equals(topic)) {
            outcomes.onAttempt(record);
        } else {
            onEvent(record);
        }
    }

    // ---- events ---------------------------------------------------------------------------------------

    /**
     * An event's dispatch, as a span in the trace it came with (its headers' {@code traceparent}, else its Kafka record's),
     * whose context its jobs carry on to the worker.
     */
    private void onEvent(Record<String, byte[]> record) {
        Event event;
        try {
            if (record.value() == null) {
                throw new IllegalArgumentException("the record has no value");
            }
            event = events.deserialize(Topics.EVENTS, record.value());
        } catch (RuntimeException e) {
            if (SchemaRegistryException.isUnavailable(e)) {
                throw e; // not the event's fault: the task restarts from its last commit and tries again
            }
            DeadLetters.refuse(context, record, DeadLetters.positionId(context), record.key(), JobStatus.REJECTED,
                    "Event could not be decoded: " + e.getMessage(), null);
            return;
        }
        Map<String, String> carrier = event.getHeaders().containsKey(Traces.TRACEPARENT) ? event.getHeaders() : recordHeaders(record);
        Span span = tracer.spanBuilder("dispatch " + event.getFunction()).setSpanKind(SpanKind.CONSUMER).setParent(Traces.extract(carrier))
                .setAttribute("wharf.job.id", String.valueOf(event.getId())).setAttribute("wharf.function", String.valueOf(event.getFunction()))
                .setAttribute("wharf.tenant", event.getTenant()).startSpan();
        try (JobLogs.Scope logs = JobLogs.of(event.getId(), event.getFunction(), event.getTenant())) {
            dispatch(record, event, span);
        } finally {
            span.end();
        }
    }

    /** The Kafka record's trace headers (any producer may set them), as a carrier. */
    private static Map<String, String> recordHeaders(Record<String, byte[]> record) {
        Map<String, String> carrier = new java.util.HashMap<>(2);
        for (String name : List.of(Traces.TRACEPARENT, Traces.TRACESTATE)) {
            org.apache.kafka.common.header.Header header = record.headers().lastHeader(name);
            if (header != null && header.value() != null) {
                carrier.put(name, new String(header.value(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return carrier;
    }

    /** Turns a decoded event into its jobs (or refuses it), within its dispatch span, whose context the jobs carry. */
    private void dispatch(Record<String, byte[]> record, Event event, Span span) {
        String function = event.getFunction();
        String jobId = event.getId() == null || event.getId().isBlank() ? DeadLetters.positionId(context) : event.getId();
        if (function == null || function.isBlank()) {
            span.setStatus(StatusCode.ERROR, "names no function");
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED, "Event " + jobId + " names no function", event);
            return;
        }
        if (!function.equals(record.key())) {
            // The function's state lives in the task that owns its name; send the event there, untouched.
            Placement.move(context, record, function, Names.REKEY_SINK);
            return;
        }
        if (placement.moveIfMisplaced(context, record, function, Names.REKEY_SINK)) {
            return;
        }
        FunctionSpec spec = specs.get(function);
        Validation.Checked checked = Validation.check(event, jobId, spec);
        if (checked.error() != null) {
            span.setStatus(StatusCode.ERROR, checked.error());
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED, checked.error(), event);
            return;
        }
        long now = context.currentSystemTimeMs();
        int priority = event.getPriority() != null ? event.getPriority() : spec.getPriority();
        Map<String, String> trace = Traces.with(event.getHeaders(), span); // the workers' spans are children of this one
        List<Job> jobs = new ArrayList<>();
        if (checked.elements() == null) {
            jobs.add(job(event, spec, jobId, event.getPayload(), priority, null, trace, now));
        } else {
            List<ByteBuffer> elements = checked.elements();
            for (int i = 0; i < elements.size(); i++) {
                jobs.add(job(event, spec, FanOut.childId(jobId, i), elements.get(i), priority, jobId, trace, now));
            }
        }
        String tooLarge = tooLarge(jobs, spec);
        if (tooLarge != null) {
            // The dead letter would be as large: it points at the event, which stays on its topic, instead of copying it.
            span.setStatus(StatusCode.ERROR, tooLarge);
            DeadLetters.refuse(context, record.withValue(null), jobId, function, JobStatus.REJECTED, tooLarge, event);
            return;
        }
        // Only an event that would become jobs counts as seen: one refused above may be sent again, fixed.
        Dedupe.First first = dedupe.earlier(function, event, jobId, record.headers().lastHeader(Topics.SENT_ONCE_HEADER) != null, now);
        if (first != null) {
            duplicate(record, event, jobId, first);
            return;
        }
        if (checked.elements() != null) {
            fanOut.start(jobId, jobs.size());
        }
        long runAt = event.getRunAt() == null ? 0 : event.getRunAt().toEpochMilli();
        for (Job job : jobs) {
            if (runAt > now) {
                if (admission.delay(function, LimitState.Limits.of(spec), job, now, outlet)) {
                    timers.schedule(runAt, Timers.Kind.JOB, job.getJobId() + "/1", jobWriter.serialize(STATE_TOPIC, job));
                    wakeup.atOrBefore(runAt, now);
                    status(JobStates.of(job, JobPhase.DELAYED, now, null), runAt);
                }
            } else {
                admit(spec, job, now);
            }
        }
    }

    /**
     * An event re-sent within the dedupe window: the same id is dropped (its first job answers it). Another id with the
     * same idempotency key and request is a retry: its result names the first job, whose result answers it too (no dead
     * letter: nothing was wrong with it). The key reused for another request is refused.
     */
    private void duplicate(Record<String, byte[]> record, Event event, String jobId, Dedupe.First first) {
        if (first.jobId().equals(jobId)) {
            log.info("Event {} was sent again within the dedupe window: it already became a job, whose result answers it", jobId);
            return;
        }
        String within = "within the last " + dedupe.windowMillis() + " ms (wharf.dispatcher.dedupe.window.ms)";
        if (first.sameRequest()) {
            DeadLetters.answer(context, DeadLetters.refusal(context, jobId, event.getFunction(), JobStatus.REJECTED, "Duplicate of job "
                    + first.jobId() + ": an event with idempotency key '" + event.getIdempotencyKey() + "' and the same request came " + within
                    + "; job " + first.jobId() + "'s result answers it", event).setDuplicateOf(first.jobId()).build());
            return;
        }
        DeadLetters.refuse(context, record, jobId, event.getFunction(), JobStatus.REJECTED, "Idempotency key '" + event.getIdempotencyKey()
                + "' was used " + within + " by job " + first.jobId() + " for another request (payload, or HTTP method, path or query): "
                + "a key names one request, so send this one with a new key", event);
    }

    /**
     * Why a job would not fit its pool's topic, or null. Only a payload near the budget is measured exactly (the
     * function's encoding is cached, so that costs one payload copy); most are far below it.
     */
    private String tooLarge(List<Job> jobs, FunctionSpec spec) {
        String topic = Topics.jobs(spec.getPool());
        int budget = limits.valueBudget(topic);
        for (Job job : jobs) {
            if (job.getPayload().remaining() > budget / 2) {
                int size = jobWriter.serialize(STATE_TOPIC, job).length;
                if (size > budget) {
                    return "Job " + job.getJobId() + " would be a record of " + size + " bytes, more than " + topic + " takes (max.message.bytes "
                            + limits.limit(topic) + ", less " + TopicLimits.ENVELOPE + " bytes of envelope): send a payload of at most about "
                            + (job.getPayload().remaining() - (size - budget)) + " bytes, or raise the topic's max.message.bytes";
                }
            }
        }
        return null;
    }

    private static Job job(Event event, FunctionSpec spec, String jobId, ByteBuffer payload, int priority, String parentId,
                           Map<String, String> trace, long now) {
        long createdAt = event.getCreatedAt().toEpochMilli();
        Instant deadline = spec.getMaxJobAgeMillis() == null ? null
                : Instant.ofEpochMilli(Math.max(createdAt, event.getRunAt() == null ? 0 : event.getRunAt().toEpochMilli()) + spec.getMaxJobAgeMillis());
        // The all-fields constructor: a builder would deep-copy defaults and the spec on every event.
        return new Job(jobId, 1, spec, payload, event.getContentType(), event.getKey(), event.getCreatedAt(), Instant.ofEpochMilli(now),
                deadline, trace, priority, event.getTenant(), List.of(), parentId, true, event.getHttp(), event.getCallback(), jobHeaders(event.getHeaders()));
    }

    /** The event's headers a job is given: all but its trace context, which travels as the job's own. */
    private static Map<String, String> jobHeaders(Map<String, String> headers) {
        if (!headers.containsKey(Traces.TRACEPARENT) && !headers.containsKey(Traces.TRACESTATE)) {
            return headers;
        }
        Map<String, String> own = new java.util.HashMap<>(headers);
        own.remove(Traces.TRACEPARENT);
        own.remove(Traces.TRACESTATE);
        return own;
    }

    // ---- admission ------------------------------------------------------------------------------------

    private void admit(FunctionSpec spec, Job job, long now) {
        // A held or retried job runs with the function as it is when it goes out.
        job.setFunction(spec);
        admitting = job;
        admittedOut = false;
        admission.admit(spec.getName(), LimitState.Limits.of(spec), job, now, outlet);
        admitting = null;
        if (admission.holds(spec.getName())) {
            wakeup.soon(now);
            if (!admittedOut) {
                status(JobStates.of(job, JobPhase.THROTTLED, now, "Held back by function " + spec.getName() + "'s rate limit or concurrency cap"), null);
            }
        }
    }

    /** Writes a state the taps cannot see (a job held back, delayed or waiting to be retried). */
    private void status(JobState state, Long runAt) {
        status(context, state, runAt);
    }

    static void status(ProcessorContext<String, Object> context, JobState state, Long runAt) {
        state.setRunAt(runAt);
        context.forward(new Record<String, Object>(state.getJobId(), state, state.getUpdatedAt()), Names.STATUS_SINK);
    }

    /** Past its function's limits: to the tenant's stage if the tenant has limits, else to the pool's topic. */
    private void route(Job job, long now) {
        admittedOut |= job == admitting;
        job.setEnqueuedAt(Instant.ofEpochMilli(now));
        FunctionSpec spec = job.getFunction();
        boolean tenantLimited = tenants.limited(job.getTenant());
        // Ask for a report only when a count, a fan-out or a chain waits on it: most jobs need none, and
        // every report read here is a commit the next event may have to wait for.
        job.setReportAttempt(spec.getMaxConcurrency() != null || tenantLimited || job.getParentId() != null
                || !spec.getOnSuccess().isEmpty() || !spec.getOnFailure().isEmpty());
        if (tenantLimited) {
            context.forward(new Record<String, Object>(job.getTenant(), jobWriter.serialize(STATE_TOPIC, job), now), Names.TENANT_SINK);
            return;
        }
        context.forward(new Record<String, Object>(jobKey(job), job, now), Names.JOBS_SINK);
        if (log.isDebugEnabled()) { // also for jobs released by a punctuation, which no event's scope covers
            try (JobLogs.Scope logs = JobLogs.of(job.getJobId(), spec.getName(), job.getTenant())) {
                log.debug("Job {} attempt {} written to {}", job.getJobId(), job.getAttempt(), Topics.jobs(spec.getPool()));
            }
        }
    }

    static String jobKey(Job job) {
        return job.getFunction().getOrdering() == Ordering.KEY && job.getKey() != null ? job.getKey() : job.getJobId();
    }

    // ---- timers ---------------------------------------------------------------------------------------

    private void punctuate(long now) {
        timers.fire(now, MAX_PER_TICK, timer -> {
            switch (timer.kind()) {
                case JOB -> {
                    Job job = jobReader.deserialize(STATE_TOPIC, timer.value());
                    if (job.getAttempt() == 1) {
                        admission.undelay(job.getFunction().getName()); // a delayed event's job, counted by delay()
                    }
                    FunctionSpec spec = specs.get(job.getFunction().getName());
                    if (spec == null || !spec.getEnabled()) {
                        outcomes.finish(result(job, JobStatus.REJECTED, "Function '" + job.getFunction().getName()
                                + "' was deleted or disabled before attempt " + job.getAttempt() + " was due", now), now);
                    } else {
                        admit(spec, job, now);
                    }
                }
                case EXPIRE -> {
                    Bytes key = Bytes.wrap(timer.value());
                    Job job = admission.expire(key, Pending.owner(key));
                    if (job != null) {
                        admission.refuse(outlet, job, JobStatus.EXPIRED, Admission.expiry(job, now), now);
                    }
                }
                case LEASE -> {
                    String function = Admission.leaseOwner(timer.id());
                    if (admission.leaseEnded(timer.id())) {
                        FunctionSpec spec = specs.get(function);
                        admission.release(function, spec == null ? null : LimitState.Limits.of(spec), now, MAX_PER_TICK, outlet);
                    }
                }
                case SCHEDULE -> log.warn("Schedule timer {} found in the dispatch timers: ignored", timer.id());
            }
        }, (timer, e) -> poisoned(timer, e, now, Names.DLQ_SINK));
        int budget = MAX_PER_TICK;
        for (String function : admission.waiting()) {
            if (budget <= 0) {
                break;
            }
            FunctionSpec spec = specs.get(function);
            budget -= admission.release(function, spec == null ? null : LimitState.Limits.of(spec), now, budget, outlet);
        }
        rearm(now);
    }

    /** A timer that failed when it fired: dead-lettered with its bytes, so that it neither blocks the others nor fires again. */
    private void poisoned(Timers.Timer timer, RuntimeException e, long now, String sink) {
        String reason = "The dispatcher failed firing " + timer.kind() + " timer " + timer.id() + " (" + e + "); it was dropped";
        log.error("Timer {} sent to {}: {}", timer.id(), Topics.DLQ, reason, e);
        context.forward(new Record<String, Object>(timer.id(), DeadLetterRecords.of(timer.id(), null, JobStatus.FAILED, reason, STATE_TOPIC, -1,
                -1, timer.id(), timer.value(), now), now), sink);
    }

    // ---- results --------------------------------------------------------------------------------------

    /** A final result for a job that did not run (refused, expired, throttled), carrying its history so far. */
    static JobResult result(Job job, JobStatus status, String error, long now) {
        return Results.of(job, status, error, now)
                .setHistory(job.getHistory())
                .setTimings(Timings.newBuilder().setEventCreatedAt(job.getEventCreatedAt().toEpochMilli()).setFinishedAt(now).build())
                .build();
    }
}
