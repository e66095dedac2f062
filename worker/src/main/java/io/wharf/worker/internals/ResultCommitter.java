package io.wharf.worker.internals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits finished jobs' records and the offsets they free in one Kafka transaction, fenced by the consumer
 * group's metadata: a job's offset is committed only with or after its result, and a worker that lost its
 * partitions cannot commit for them any more.
 *
 * <p>The poll loop calls {@link #publish}; the transaction itself runs on this committer's own thread, the only
 * user of the producer while it is in flight. Meanwhile the loop goes on and finished jobs gather for the next
 * transaction: a commit's latency bounds how often results become visible, not how many jobs run.
 *
 * <p>A transaction costs the same few milliseconds for one result or twenty, and the next one waits for it: so
 * results that finish while jobs started just before them still run wait for those, up to a short linger, and a
 * burst of quick jobs commits as one transaction instead of one per job.
 *
 * <p>While the brokers are away a transaction's end (commit or abort) times out; the producer then accepts nothing
 * but that same call again, so the committer repeats it until the brokers answer, and the finished jobs wait.
 *
 * <p>A transaction that failed and was aborted is tried again after a pause (100 ms, doubling to 2 s while they
 * keep failing), and its failure does not wake the loop. A wakeup that lands while the consumer rejoins its group
 * fails that rebalance, so the group rebalances again; and a commit made meanwhile fails on the stale group
 * metadata. Retried at once, each failure woke the loop into the next rebalance: after a broker outage the worker
 * went through a new generation every 20-40 ms and committed nothing until the timing let one rebalance finish.
 */
public final class ResultCommitter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ResultCommitter.class);
    /**
     * A job that started is told as running by the next commit, or by one of its own once it has run this long: jobs
     * quicker than that cost no commit of their own (a worker that dies sooner does not count the crash).
     */
    static final long RUNNING_TOLD_AFTER_NANOS = 200_000_000L;
    /** The pause after the first failed transaction; it doubles with each failure in a row, up to the maximum. */
    static final long FIRST_RETRY_PAUSE_NANOS = 100_000_000L;
    static final long MAX_RETRY_PAUSE_NANOS = 2_000_000_000L;

    private final String workerId;
    private final Producer<String, byte[]> producer;
    private final long intervalNanos;
    private final long lingerNanos;
    private final LongSupplier nanoTime;
    private final Runnable afterCommit;
    private final ExecutorService thread;
    /** Finished jobs of owned partitions whose records are not yet in a transaction (loop thread only). */
    private final List<Completion> uncommitted = new ArrayList<>();
    private volatile Future<Outcome> inFlight;
    /** A transaction whose end timed out: ended again before any other (loop thread only). */
    private Outcome unended;
    /** Bytes of finished jobs' records not committed yet, in flight included (loop thread only). */
    private long waitingBytes;
    private long lastCommitNanos;
    /** When the oldest of {@link #uncommitted} finished (loop thread only). */
    private long oldestUncommittedAt;
    /** The pause after the last failed transaction, 0 once one succeeds; the next is not tried before retryAt (loop thread only). */
    private long retryPause;
    private long retryAt;

    /**
     * @param intervalNanos commit at most this often unless asked to wait; 0 commits whenever something is ready
     * @param lingerNanos   how long finished results may wait for jobs started less than this before them; 0 never waits
     * @param afterCommit   called after each transaction, once its outcome can be collected: the loop may have more to commit
     */
    public ResultCommitter(String workerId, Producer<String, byte[]> producer, long intervalNanos, long lingerNanos, LongSupplier nanoTime,
                           Runnable afterCommit) {
        this.workerId = workerId;
        this.producer = producer;
        this.intervalNanos = intervalNanos;
        this.lingerNanos = lingerNanos;
        this.nanoTime = nanoTime;
        this.afterCommit = afterCommit;
        this.thread = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("wharf-commit-" + workerId).factory());
    }

    /** A finished job of a partition the worker owns, to go out with a commit that covers its offset. */
    public void finished(Completion completion) {
        if (uncommitted.isEmpty()) {
            oldestUncommittedAt = nanoTime.getAsLong();
        }
        uncommitted.add(completion);
        waitingBytes += completion.bytes();
    }

    /** Bytes of finished jobs' records that wait for a commit (a bound on them keeps a broker outage from filling memory). */
    public long waitingBytes() {
        return waitingBytes;
    }

    /** Drops the completions of partitions this worker no longer owns. */
    private void dropMoved(Map<TopicPartition, PartitionTracker> trackers) {
        uncommitted.removeIf(c -> {
            boolean moved = trackers.get(c.partition()) != c.tracker();
            if (moved) {
                waitingBytes -= c.bytes();
            }
            return moved;
        });
    }

    /**
     * Starts a transaction with what is ready, unless one is in flight or the interval has not passed. With
     * {@code sync} (rebalance, shutdown) it waits until everything finished so far is committed. Records of
     * partitions whose tracker is no longer in {@code trackers} are dropped: their jobs belong to the new owner.
     *
     * @throws KafkaException when the producer is fenced or not authorized: the worker cannot go on
     */
    public void publish(Map<TopicPartition, PartitionTracker> trackers, Supplier<ConsumerGroupMetadata> group, boolean sync) {
        collect(false, trackers);
        if (inFlight != null) {
            if (!sync) {
                return;
            }
            collect(true, trackers);
        }
        if (unended != null) {
            Outcome again = unended;
            unended = null;
            inFlight = submit(() -> end(again));
            if (sync) {
                collect(true, trackers);
            }
            return;
        }
        dropMoved(trackers);
        long now = nanoTime.getAsLong();
        if (uncommitted.isEmpty() && trackers.values().stream().noneMatch(t -> t.runningUntoldFor(sync ? 0 : RUNNING_TOLD_AFTER_NANOS, now))) {
            return;
        }
        if (!sync && nanosUntilDue(trackers, now) > 0) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, PartitionTracker> committed = new HashMap<>();
        Map<TopicPartition, Set<Long>> listed = new HashMap<>();
        trackers.forEach((tp, tracker) -> {
            long position = tracker.committable();
            List<Long> finishedAbove = tracker.encodable();
            String metadata = tracker.metadata(finishedAbove);
            if (position >= 0 && !tracker.isCommitted(position, metadata)) {
                listed.put(tp, new HashSet<>(finishedAbove));
                offsets.put(tp, new OffsetAndMetadata(position, metadata));
                committed.put(tp, tracker);
            }
        });
        // A record goes out only with a commit that covers its job's offset, below the committed position or listed
        // in its metadata: a new owner then knows the job is done. The rest waits for a later commit.
        List<Completion> batch = new ArrayList<>();
        for (Iterator<Completion> it = uncommitted.iterator(); it.hasNext(); ) {
            Completion c = it.next();
            if (c.offset() < c.tracker().committable() || listed.getOrDefault(c.partition(), Set.of()).contains(c.offset())) {
                batch.add(c);
                it.remove();
            }
        }
        if (batch.isEmpty() && offsets.isEmpty()) {
            return;
        }
        ConsumerGroupMetadata metadata = group.get();
        lastCommitNanos = nanoTime.getAsLong();
        inFlight = submit(() -> commit(batch, offsets, metadata, committed));
        if (sync) {
            collect(true, trackers);
        }
    }

    /**
     * How long the loop may poll before it must publish again: {@code max}, or less when finished results wait for an
     * interval or linger to pass (not while a transaction is in flight: its end wakes the loop).
     */
    public Duration pollBound(Map<TopicPartition, PartitionTracker> trackers, Duration max) {
        if (inFlight != null || uncommitted.isEmpty()) {
            return max;
        }
        long due = nanosUntilDue(trackers, nanoTime.getAsLong());
        return due > 0 && due < max.toNanos() ? Duration.ofNanos(due) : max;
    }

    /**
     * How long until a commit of what waits is due: the rest of the interval, of the linger while a job started
     * within it still runs, or of the pause after a failed transaction; 0 when due now. The loop polls no longer
     * than this, so nothing waits past it.
     */
    private long nanosUntilDue(Map<TopicPartition, PartitionTracker> trackers, long now) {
        long wait = intervalNanos > 0 ? intervalNanos - (now - lastCommitNanos) : 0;
        if (retryPause > 0) {
            wait = Math.max(wait, retryAt - now);
        }
        if (lingerNanos > 0 && !uncommitted.isEmpty()) {
            long lingerLeft = lingerNanos - (now - oldestUncommittedAt);
            if (lingerLeft > 0 && trackers.values().stream().anyMatch(t -> t.runningSince(now - lingerNanos))) {
                wait = Math.max(wait, lingerLeft);
            }
        }
        return Math.max(0, wait);
    }

    /**
     * Runs a transaction's step on the committer's thread, then wakes the loop if it succeeded: only once the future
     * is done, or the woken loop could find it still running, poll a full timeout and leave the results unseen until
     * the next record (a 150 ms stall of every result of a burst at 100 calls/s). A failed step does not wake it (see
     * the class comment): the loop collects it after its poll, within the poll's timeout.
     */
    private Future<Outcome> submit(java.util.function.Supplier<Outcome> step) {
        CompletableFuture<Outcome> outcome = CompletableFuture.supplyAsync(step, thread);
        outcome.whenComplete((done, error) -> {
            if (error == null && done.error() == null) {
                afterCommit.run();
            }
        });
        return outcome;
    }

    /** Whether a transaction is in flight and not yet collectable (what a woken loop must never find). */
    public boolean transactionRunning() {
        Future<Outcome> current = inFlight;
        return current != null && !current.isDone();
    }

    /**
     * What the committer thread did with one batch: committed (no error), to be tried again, fatal, or ended in a
     * timeout ({@link EndTimedOut}; {@code committing} says whether it was the commit or the abort).
     */
    private record Outcome(List<Completion> batch, Map<TopicPartition, OffsetAndMetadata> offsets,
                           Map<TopicPartition, PartitionTracker> trackers, RuntimeException error, boolean committing) {
        Outcome failed(RuntimeException e) {
            return new Outcome(batch, offsets, trackers, e, false);
        }

        Outcome endTimedOut(TimeoutException e, boolean commit) {
            return new Outcome(batch, offsets, trackers, new EndTimedOut(e), commit);
        }
    }

    /** The transaction's end timed out: the same call must be made again. */
    private static final class EndTimedOut extends RuntimeException {
        EndTimedOut(TimeoutException cause) {
            super(cause);
        }
    }

    private Outcome commit(List<Completion> batch, Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group,
                           Map<TopicPartition, PartitionTracker> trackers) {
        Outcome outcome = new Outcome(batch, offsets, trackers, null, false);
        boolean ending = false;
        try {
            producer.beginTransaction();
            for (Completion completion : batch) {
                completion.records().forEach(producer::send);
            }
            if (!offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, group);
            }
            ending = true;
            producer.commitTransaction();
            return outcome;
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            return outcome.failed(e);
        } catch (TimeoutException e) {
            return ending ? outcome.endTimedOut(e, true) : abort(outcome, e);
        } catch (KafkaException e) {
            return abort(outcome, e);
        }
    }

    /** Ends again a transaction whose commit or abort timed out. */
    private Outcome end(Outcome timedOut) {
        Outcome outcome = new Outcome(timedOut.batch(), timedOut.offsets(), timedOut.trackers(), null, false);
        try {
            if (!timedOut.committing()) {
                return abort(outcome, timedOut.error());
            }
            producer.commitTransaction();
            return outcome;
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            return outcome.failed(e);
        } catch (TimeoutException e) {
            return outcome.endTimedOut(e, true);
        } catch (KafkaException e) {
            return abort(outcome, e);
        }
    }

    /** Aborts the open transaction after {@code cause}; its records go into a later one. */
    private Outcome abort(Outcome outcome, RuntimeException cause) {
        try {
            producer.abortTransaction();
            return outcome.failed(new RetriableCommitException(cause));
        } catch (TimeoutException e) {
            return outcome.endTimedOut(e, false);
        } catch (KafkaException abortFailed) {
            return outcome.failed(abortFailed);
        }
    }

    /** An aborted transaction whose records are tried again in the next one. */
    private static final class RetriableCommitException extends RuntimeException {
        RetriableCommitException(RuntimeException cause) {
            super(cause);
        }
    }

    /** Applies the outcome of the transaction in flight, if it is done (or, with {@code wait}, once it is). */
    private void collect(boolean wait, Map<TopicPartition, PartitionTracker> trackers) {
        if (inFlight == null || (!wait && !inFlight.isDone())) {
            return;
        }
        Outcome outcome;
        try {
            outcome = inFlight.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while committing results", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Commit failed", e.getCause());
        } finally {
            inFlight = null;
        }
        if (outcome.error() == null) {
            retryPause = 0;
            outcome.offsets().forEach((tp, offset) -> outcome.trackers().get(tp).committed(offset.offset(), offset.metadata()));
            outcome.batch().forEach(c -> waitingBytes -= c.bytes());
            return;
        }
        if (outcome.error() instanceof EndTimedOut timedOut) {
            log.warn("Worker {}: {} of {} results timed out ({}); trying it again", workerId, outcome.committing() ? "the commit" : "the abort",
                    outcome.batch().size(), timedOut.getCause().getMessage());
            unended = outcome;
            return;
        }
        if (!(outcome.error() instanceof RetriableCommitException retry)) {
            throw outcome.error();
        }
        retryPause = retryPause == 0 ? FIRST_RETRY_PAUSE_NANOS : Math.min(MAX_RETRY_PAUSE_NANOS, retryPause * 2);
        retryAt = nanoTime.getAsLong() + retryPause;
        log.warn("Worker {} could not commit {} results, will retry in {} ms: {}", workerId, outcome.batch().size(), retryPause / 1_000_000,
                retry.getCause().toString());
        outcome.trackers().values().forEach(PartitionTracker::runningUntold);
        // Back in line for the next transaction, unless their partition moved meanwhile.
        outcome.batch().forEach(c -> {
            if (trackers.get(c.partition()) == c.tracker()) {
                uncommitted.add(c);
            } else {
                waitingBytes -= c.bytes();
            }
        });
    }

    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
