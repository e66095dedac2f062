package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Commit ordering: a job's offset is committed only with or after its result, in one transaction. */
class ResultCommitterTest {
    private static final TopicPartition TP = new TopicPartition("wharf.jobs.default", 0);
    private static final ConsumerGroupMetadata GROUP = new ConsumerGroupMetadata("wharf-workers-default");

    private final MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final AtomicLong nanos = new AtomicLong();
    private final Map<TopicPartition, PartitionTracker> trackers = new HashMap<>();
    private ResultCommitter committer = committer(0);

    private ResultCommitter committer(long intervalNanos) {
        producer.initTransactions();
        return new ResultCommitter("w", producer, intervalNanos, 0, nanos::get, () -> { });
    }

    @AfterEach
    void close() {
        committer.close();
    }

    private PartitionTracker owned(TopicPartition tp, long... offsets) {
        PartitionTracker tracker = trackers.computeIfAbsent(tp, k -> new PartitionTracker());
        for (long offset : offsets) {
            tracker.taken(offset);
        }
        return tracker;
    }

    private void finish(TopicPartition tp, long offset) {
        PartitionTracker tracker = trackers.get(tp);
        tracker.done(offset);
        committer.finished(new Completion(tp, tracker, offset, List.of(new ProducerRecord<>("wharf.results", "job-" + offset, new byte[] {1})),
                "job-" + offset, null));
    }

    private List<String> committedKeys() {
        return producer.history().stream().map(ProducerRecord::key).toList();
    }

    private OffsetAndMetadata lastCommittedOffset() {
        List<Map<String, Map<TopicPartition, OffsetAndMetadata>>> history = producer.consumerGroupOffsetsHistory();
        return history.get(history.size() - 1).get(GROUP.groupId()).get(TP);
    }

    @Test
    void shouldCommitAResultAndTheOffsetItFreesInOneTransaction() {
        owned(TP, 0);
        finish(TP, 0);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.commitCount()).isEqualTo(1);
        assertThat(committedKeys()).containsExactly("job-0");
        assertThat(lastCommittedOffset().offset()).isEqualTo(1);
    }

    @Test
    void shouldListAJobFinishedAboveAnUnfinishedOneInTheOffsetMetadataAndMoveOnOnlyWhenTheGapCloses() {
        owned(TP, 0, 1);
        finish(TP, 1);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(committedKeys()).containsExactly("job-1");
        assertThat(lastCommittedOffset().offset()).as("offset 0 still runs").isZero();
        assertThat(PartitionTracker.skipping(0, lastCommittedOffset().metadata()).finishedEarlier(1))
                .as("a new owner learns job 1 is done").isTrue();
        finish(TP, 0);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(committedKeys()).containsExactly("job-1", "job-0");
        assertThat(lastCommittedOffset().offset()).isEqualTo(2);
    }

    @Test
    void shouldDropResultsOfAPartitionThatMovedAway() {
        owned(TP, 0);
        finish(TP, 0);
        trackers.remove(TP); // revoked before the commit
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.commitCount()).isZero();
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void shouldTryAnAbortedTransactionsResultsAgainInTheNextOne() {
        owned(TP, 0);
        finish(TP, 0);
        producer.commitTransactionException = new KafkaException("broker away");
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.transactionAborted()).isTrue();
        assertThat(producer.history()).isEmpty();
        producer.commitTransactionException = null;
        committer.publish(trackers, () -> GROUP, true);
        assertThat(committedKeys()).containsExactly("job-0");
        assertThat(lastCommittedOffset().offset()).isEqualTo(1);
    }

    @Test
    void shouldCommitAgainATransactionWhoseCommitTimedOutInsteadOfAbortingIt() {
        owned(TP, 0, 1);
        finish(TP, 0);
        producer.commitTransactionException = new TimeoutException("brokers away");
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.transactionAborted()).as("a timed-out commit may only be retried").isFalse();
        finish(TP, 1);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.history()).as("still away").isEmpty();
        assertThat(committer.waitingBytes()).as("both results wait in memory").isEqualTo(2);

        producer.commitTransactionException = null;
        committer.publish(trackers, () -> GROUP, true); // ends the first transaction
        assertThat(committedKeys()).containsExactly("job-0");
        committer.publish(trackers, () -> GROUP, true); // then the next one
        assertThat(committedKeys()).containsExactly("job-0", "job-1");
        assertThat(lastCommittedOffset().offset()).isEqualTo(2);
        assertThat(committer.waitingBytes()).isZero();
    }

    @Test
    void shouldTellARunningJobWithACommitOfItsOwnOnlyOnceItHasRunAWhile() {
        owned(TP, 0).started(0, nanos.get());
        committer.publish(trackers, () -> GROUP, false);
        assertThat(producer.commitCount()).as("a quick job is told by its result's commit").isZero();
        nanos.addAndGet(ResultCommitter.RUNNING_TOLD_AFTER_NANOS);
        committer.publish(trackers, () -> GROUP, false);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.commitCount()).isEqualTo(1);
        assertThat(PartitionTracker.skipping(0, lastCommittedOffset().metadata()).crashes(0)).as("read by a next owner").isEqualTo(1);
    }

    @Test
    void shouldStopAFencedWorker() {
        owned(TP, 0);
        finish(TP, 0);
        producer.fenceProducer();
        assertThatThrownBy(() -> committer.publish(trackers, () -> GROUP, true)).isInstanceOf(ProducerFencedException.class);
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void shouldGatherResultsUntilTheCommitIntervalPassesUnlessAskedToWait() {
        committer.close();
        committer = new ResultCommitter("w", producer, 1_000_000_000L, 0, nanos::get, () -> { });
        owned(TP, 0, 1);
        nanos.set(2_000_000_000L);
        finish(TP, 0);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.commitCount()).isEqualTo(1);
        finish(TP, 1);
        committer.publish(trackers, () -> GROUP, false);
        assertThat(producer.commitCount()).as("within the interval").isEqualTo(1);
        nanos.addAndGet(1_000_000_000L);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.commitCount()).isEqualTo(2);
        assertThat(committedKeys()).containsExactly("job-0", "job-1");
    }

    private static final long MS = 1_000_000L;

    private void lingering(long lingerNanos) {
        committer.close();
        committer = new ResultCommitter("w", producer, 0, lingerNanos, nanos::get, () -> { });
    }

    @Test
    void shouldHoldAFinishedResultForAJobStartedJustBeforeItSoBothGoInOneTransaction() {
        lingering(3 * MS);
        PartitionTracker tracker = owned(TP, 0, 1);
        tracker.started(0, 0);
        tracker.started(1, 0);
        nanos.set(MS);
        finish(TP, 0);
        committer.publish(trackers, () -> GROUP, false);
        assertThat(committer.pollBound(trackers, Duration.ofMillis(500))).as("the loop polls until the linger ends").isEqualTo(Duration.ofMillis(3));
        assertThat(producer.commitCount()).isZero();
        nanos.set(2 * MS);
        finish(TP, 1);
        committer.publish(trackers, () -> GROUP, false); // nothing runs any more: commits now
        committer.publish(trackers, () -> GROUP, true);
        assertThat(producer.commitCount()).isEqualTo(1);
        assertThat(committedKeys()).containsExactly("job-0", "job-1");
    }

    @Test
    void shouldNotHoldAResultForLongerThanTheLingerNorForAJobThatStartedEarlier() {
        lingering(3 * MS);
        PartitionTracker tracker = owned(TP, 0, 1, 2);
        tracker.started(0, 0);
        tracker.started(1, 0);
        nanos.set(10 * MS);
        finish(TP, 0); // job 1 has run for 10 ms: a long job, not one of a burst
        assertThat(committer.pollBound(trackers, Duration.ofMillis(500))).isEqualTo(Duration.ofMillis(500));
        committer.publish(trackers, () -> GROUP, false);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(committedKeys()).containsExactly("job-0");

        tracker.started(2, 11 * MS);
        nanos.set(12 * MS);
        finish(TP, 1);
        nanos.set(15 * MS); // job 2 still runs, but job 1's result has waited the whole linger
        committer.publish(trackers, () -> GROUP, false);
        committer.publish(trackers, () -> GROUP, true);
        assertThat(committedKeys()).containsExactly("job-0", "job-1");
    }

    @Test
    void shouldWakeTheLoopOnlyOnceTheTransactionCanBeCollectedSoItsNextResultsGoOutAtOnce() throws Exception {
        committer.close();
        java.util.concurrent.Semaphore woken = new java.util.concurrent.Semaphore(0);
        List<Boolean> runningWhenWoken = new java.util.concurrent.CopyOnWriteArrayList<>();
        committer = new ResultCommitter("w", producer, 0, 0, nanos::get, () -> {
            runningWhenWoken.add(committer.transactionRunning());
            woken.release();
        });
        owned(TP, 0, 1);
        finish(TP, 0);
        committer.publish(trackers, () -> GROUP, false);
        assertThat(woken.tryAcquire(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        // As the loop does when woken: the first transaction is over, so the next result starts the next one now.
        finish(TP, 1);
        committer.publish(trackers, () -> GROUP, false);
        assertThat(woken.tryAcquire(5, java.util.concurrent.TimeUnit.SECONDS)).as("a second transaction, without waiting for a poll").isTrue();
        assertThat(producer.commitCount()).isEqualTo(2);
        assertThat(runningWhenWoken).containsExactly(false, false);
    }
    @Test
    void shouldPauseBeforeTryingAFailedTransactionAgainWithoutWakingTheLoopForIt() {
        committer.close();
        AtomicLong wakes = new AtomicLong();
        committer = new ResultCommitter("w", producer, 0, 0, nanos::get, wakes::incrementAndGet);
        owned(TP, 0);
        finish(TP, 0);
        producer.commitTransactionException = new KafkaException("the group's metadata is stale: it rebalances");
        committer.publish(trackers, () -> GROUP, false);
        await().atMost(Duration.ofSeconds(5)).until(() -> !committer.transactionRunning());
        committer.publish(trackers, () -> GROUP, false); // collects the failure, and waits
        assertThat(producer.transactionAborted()).isTrue();
        assertThat(committer.pollBound(trackers, Duration.ofMillis(500))).as("the loop polls through the pause")
                .isEqualTo(Duration.ofMillis(100));

        nanos.addAndGet(100 * MS);
        committer.publish(trackers, () -> GROUP, false); // fails again
        await().atMost(Duration.ofSeconds(5)).until(() -> !committer.transactionRunning());
        committer.publish(trackers, () -> GROUP, false);
        assertThat(committer.pollBound(trackers, Duration.ofMillis(500))).as("twice as long after a second failure in a row")
                .isEqualTo(Duration.ofMillis(200));
        assertThat(wakes.get()).as("a wakeup during the consumer's rebalance would fail that rebalance").isZero();

        producer.commitTransactionException = null;
        nanos.addAndGet(199 * MS);
        committer.publish(trackers, () -> GROUP, false);
        assertThat(producer.history()).as("not before the pause ends").isEmpty();
        nanos.addAndGet(MS);
        committer.publish(trackers, () -> GROUP, false);
        await().atMost(Duration.ofSeconds(5)).until(() -> wakes.get() == 1);
        assertThat(committedKeys()).containsExactly("job-0");
    }
}
