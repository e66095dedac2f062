package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.DeadLetter;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.topics.DeadLetterRecords;

/**
 * Admission under one kind of owner's limits (functions in the first stage, tenants in the second): a job goes
 * out when nothing waits before it, a token is there and a concurrency slot is free; otherwise it is held, by
 * priority then arrival, or refused {@code THROTTLED} past the backlog. Held jobs are released as tokens
 * refill and slots free up; a job past its deadline is {@code EXPIRED} instead.
 *
 * <p>A concurrency slot is a lease: it is freed by its attempt's report, or, when that report can no longer come
 * (the job record deleted by retention before any worker took it, a worker that dead-lettered it), when the lease
 * ends ({@link Leases}), so that a lost job cannot hold its slot for ever.
 */
final class Admission {
    private static final Logger log = LoggerFactory.getLogger(Admission.class);

    /** When a slot taken for a job now must have been freed by its report. */
    interface Leases {
        long end(Job job, long now);
    }

    /** Where admitted and refused jobs go: the sinks of the processor that admits them. */
    interface Outlet {
        void dispatch(Job job, long now);

        /** A refused job's final result. */
        void result(Job job, JobResult result, long now);

        /** An expired job, for the dead-letter topic. */
        void deadLetter(Job job, DeadLetter letter, long now);
    }

    /** A job that is not let out: its final result, and for an expired one a dead letter with the job in it. */
    void refuse(Outlet out, Job job, JobStatus status, String reason, long now) {
        out.result(job, DispatchProcessor.result(job, status, reason, now), now);
        if (status == JobStatus.EXPIRED) {
            out.deadLetter(job, DeadLetterRecords.of(job.getJobId(), job.getFunction().getName(), status, reason, DispatchProcessor.STATE_TOPIC,
                    -1, -1, job.getJobId(), writer.serialize(DispatchProcessor.STATE_TOPIC, job), now), now);
        }
    }

    private final String kind;
    private final KeyValueStore<String, byte[]> limits;
    private final KeyValueStore<String, byte[]> inflight;
    private final Pending pending;
    private final Timers timers;
    private final Leases leases;
    private final AvroSerializer<Job> writer;
    private final AvroDeserializer<Job> reader;
    /** Owners with held jobs (rebuilt from the limits store at start). */
    private final Set<String> waiting = new LinkedHashSet<>();

    /**
     * {@code timers} may be null: held jobs then expire only when they would be released, and slots are freed only by
     * reports; {@code leases} too, and then slots have no lease.
     */
    Admission(String kind, KeyValueStore<String, byte[]> limits, KeyValueStore<String, byte[]> inflight, Pending pending, Timers timers,
              Leases leases, AvroSerializer<Job> writer, AvroDeserializer<Job> reader) {
        this.kind = kind;
        this.limits = limits;
        this.inflight = inflight;
        this.pending = pending;
        this.timers = timers;
        this.leases = timers == null ? null : leases;
        this.writer = writer;
        this.reader = reader;
        try (KeyValueIterator<String, byte[]> it = limits.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> entry = it.next();
                if (LimitState.decode(entry.value).pending > 0) {
                    waiting.add(entry.key);
                }
            }
        }
    }

    boolean holds(String owner) {
        return waiting.contains(owner);
    }

    boolean anyWaiting() {
        return !waiting.isEmpty();
    }

    List<String> waiting() {
        return List.copyOf(waiting);
    }

    static boolean expired(Job job, long now) {
        return job.getDeadline() != null && now > job.getDeadline().toEpochMilli();
    }

    static String expiry(Job job, long now) {
        return "Job " + job.getJobId() + " expired: it would have started " + (now - job.getEventCreatedAt().toEpochMilli())
                + " ms after its event, past function '" + job.getFunction().getName() + "''s maxJobAgeMillis of "
                + job.getFunction().getMaxJobAgeMillis();
    }

    void admit(String owner, LimitState.Limits l, Job job, long now, Outlet out) {
        if (expired(job, now)) {
            refuse(out, job, JobStatus.EXPIRED, expiry(job, now), now);
            return;
        }
        if (!l.any() && !waiting.contains(owner)) {
            out.dispatch(job, now);
            return;
        }
        LimitState state = state(owner, l, now);
        if (state.pending == 0 && state.admits(l)) {
            state.take(l);
            count(owner, l, job, state, now);
            limits.put(owner, state.encode());
            out.dispatch(job, now);
            return;
        }
        if (state.pending >= l.maxPending()) {
            refuse(out, job, JobStatus.THROTTLED, kind + " '" + owner + "' already holds " + state.pending
                    + " jobs waiting for its rate limit or concurrency cap (maxPending " + l.maxPending() + "): try again later", now);
            return;
        }
        Bytes key = Pending.key(owner, Math.max(0, Math.min(2, job.getPriority())), state.sequence++);
        pending.put(key, writer.serialize(DispatchProcessor.STATE_TOPIC, job));
        state.pending++;
        limits.put(owner, state.encode());
        waiting.add(owner);
        if (job.getDeadline() != null && timers != null) {
            timers.schedule(job.getDeadline().toEpochMilli() + 1, Timers.Kind.EXPIRE, job.getJobId(), key.get());
        }
    }

    /**
     * A delayed event's job, to wait in a timer until {@code runAt}: counted against the owner's maxPending with its
     * held jobs, so that delays cannot pile up without bound; refused THROTTLED past it. Returns whether it may wait.
     */
    boolean delay(String owner, LimitState.Limits l, Job job, long now, Outlet out) {
        LimitState state = state(owner, l, now);
        if (state.delayed + state.pending >= l.maxPending()) {
            refuse(out, job, JobStatus.THROTTLED, kind + " '" + owner + "' already holds " + state.delayed + " delayed and " + state.pending
                    + " held jobs (maxPending " + l.maxPending() + "): try again later", now);
            return false;
        }
        state.delayed++;
        limits.put(owner, state.encode());
        return true;
    }

    /** A delayed job's time came: it no longer counts as delayed (it is admitted next, like any job). */
    void undelay(String owner) {
        byte[] bytes = limits.get(owner);
        if (bytes != null) {
            LimitState state = LimitState.decode(bytes);
            state.delayed = Math.max(0, state.delayed - 1);
            limits.put(owner, state.encode());
        }
    }

    private LimitState state(String owner, LimitState.Limits l, long now) {
        byte[] bytes = limits.get(owner);
        LimitState state = bytes == null ? LimitState.fresh(l, now) : LimitState.decode(bytes);
        state.refill(l, now);
        return state;
    }

    /** Counts the job as running until {@link #finished} hears of this very attempt, or its lease ends. */
    private void count(String owner, LimitState.Limits l, Job job, LimitState state, long now) {
        if (l.maxConcurrency() != null) {
            String key = owner + '\u0000' + job.getJobId();
            long end = leases == null ? Long.MAX_VALUE : leases.end(job, now);
            inflight.put(key, ByteBuffer.allocate(12).putInt(job.getAttempt()).putLong(end).array());
            if (end != Long.MAX_VALUE) {
                timers.schedule(end, Timers.Kind.LEASE, leaseId(key, job.getAttempt()), null);
            }
            state.inFlight++;
        }
    }

    /** A job's attempt ended: frees its slot if it held one. Returns whether jobs wait for the owner. */
    boolean finished(String owner, String jobId, int attempt) {
        return free(owner + '\u0000' + jobId, attempt, true) == Freed.WITH_JOBS_WAITING;
    }

    /** A slot's lease ended ({@code leaseId} from its LEASE timer): frees it unless its report did. Returns whether it did. */
    boolean leaseEnded(String leaseId) {
        int slash = leaseId.lastIndexOf('/');
        boolean freed = free(leaseId.substring(0, slash), Integer.parseInt(leaseId.substring(slash + 1)), false) != Freed.NOTHING;
        if (freed) {
            log.warn("Job {} has not reported back within its lease: its concurrency slot of {} '{}' is freed (its job record was deleted "
                    + "before a worker took it, or a worker dead-lettered it)", leaseId.substring(leaseId.indexOf('\u0000') + 1, slash), kind,
                    leaseOwner(leaseId));
        }
        return freed;
    }

    /** The id of the LEASE timer of a slot ({@code key}: owner NUL job id): what {@link #leaseEnded} reads back. */
    private static String leaseId(String key, int attempt) {
        return key + '/' + attempt;
    }

    /** The owner (function or tenant) of a lease's slot. */
    static String leaseOwner(String leaseId) {
        return leaseId.substring(0, leaseId.indexOf('\u0000'));
    }

    private enum Freed { NOTHING, NO_JOBS_WAITING, WITH_JOBS_WAITING }

    private Freed free(String key, int attempt, boolean cancelLease) {
        byte[] counted = inflight.get(key);
        if (counted == null || ByteBuffer.wrap(counted).getInt() != attempt) {
            return Freed.NOTHING;
        }
        inflight.delete(key);
        if (cancelLease && counted.length >= 12 && timers != null) {
            timers.cancel(ByteBuffer.wrap(counted, 4, 8).getLong(), Timers.Kind.LEASE, leaseId(key, attempt));
        }
        String owner = key.substring(0, key.indexOf('\u0000'));
        byte[] bytes = limits.get(owner);
        if (bytes == null) {
            return Freed.NO_JOBS_WAITING;
        }
        LimitState state = LimitState.decode(bytes);
        state.inFlight = Math.max(0, state.inFlight - 1);
        limits.put(owner, state.encode());
        return state.pending > 0 ? Freed.WITH_JOBS_WAITING : Freed.NO_JOBS_WAITING;
    }

    /** A held job's deadline passed (its EXPIRE timer fired): take it out if it still waits. */
    Job expire(Bytes pendingKey, String owner) {
        byte[] bytes = pending.remove(pendingKey);
        if (bytes == null) {
            return null;
        }
        byte[] stateBytes = limits.get(owner);
        if (stateBytes != null) {
            LimitState state = LimitState.decode(stateBytes);
            state.pending = Math.max(0, state.pending - 1);
            limits.put(owner, state.encode());
        }
        return reader.deserialize(DispatchProcessor.STATE_TOPIC, bytes);
    }

    /**
     * Releases an owner's held jobs, by priority then arrival, while its limits allow; {@code l} null means the
     * owner is gone and its held jobs are refused. Returns how many left the queue.
     */
    int release(String owner, LimitState.Limits l, long now, int budget, Outlet out) {
        byte[] bytes = limits.get(owner);
        if (bytes == null) {
            waiting.remove(owner);
            return 0;
        }
        LimitState state = LimitState.decode(bytes);
        if (l != null) {
            state.refill(l, now);
        }
        int released = 0;
        while (released < budget && state.pending > 0 && (l == null || state.admits(l))) {
            List<KeyValue<Bytes, byte[]>> head = pending.head(owner, Math.min(500, budget - released));
            if (head.isEmpty()) {
                state.pending = 0; // the count drifted from the store (it cannot, but never spin on it)
                break;
            }
            for (KeyValue<Bytes, byte[]> entry : head) {
                if (released >= budget || (l != null && !state.admits(l))) {
                    break;
                }
                pending.remove(entry.key);
                state.pending--;
                released++;
                Job job = reader.deserialize(DispatchProcessor.STATE_TOPIC, entry.value);
                if (job.getDeadline() != null && timers != null) {
                    timers.cancel(job.getDeadline().toEpochMilli() + 1, Timers.Kind.EXPIRE, job.getJobId());
                }
                if (l == null) {
                    refuse(out, job, JobStatus.REJECTED, kind + " '" + owner + "' was deleted while the job waited", now);
                } else if (expired(job, now)) {
                    refuse(out, job, JobStatus.EXPIRED, expiry(job, now), now);
                } else {
                    state.take(l);
                    count(owner, l, job, state, now);
                    out.dispatch(job, now);
                }
            }
        }
        limits.put(owner, state.encode());
        if (state.pending == 0) {
            waiting.remove(owner);
        }
        return released;
    }

    /** The task closes: what it holds is no longer counted here. */
    void close() {
        pending.close();
    }
}
