package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class PartitionTrackerTest {
    @Test
    void shouldCommitOnlyUpToTheLowestUnfinishedOffset() {
        PartitionTracker tracker = new PartitionTracker();
        assertThat(tracker.committable()).isEqualTo(-1);
        tracker.taken(10);
        tracker.taken(11);
        tracker.taken(12);
        tracker.done(12);
        tracker.done(11);
        assertThat(tracker.committable()).as("10 still runs").isEqualTo(10);
        tracker.done(10);
        assertThat(tracker.committable()).isEqualTo(13);
    }

    @Test
    void shouldListJobsFinishedAboveTheCommittableOffsetSoANewOwnerSkipsThem() {
        PartitionTracker owner = new PartitionTracker();
        for (long o = 100; o < 105; o++) {
            owner.taken(o);
        }
        owner.done(103);
        owner.done(101);
        List<Long> done = owner.encodable();
        assertThat(done).containsExactly(101L, 103L);
        String metadata = owner.metadata(done);

        PartitionTracker next = PartitionTracker.skipping(owner.committable(), metadata);
        assertThat(next.taken(100)).isTrue();
        assertThat(next.taken(101)).as("finished before").isFalse();
        assertThat(next.taken(102)).isTrue();
        assertThat(next.taken(103)).as("finished before").isFalse();
        assertThat(next.taken(104)).isTrue();
        next.done(100);
        next.done(102);
        assertThat(next.committable()).as("past the skipped ones").isEqualTo(104);
        next.done(104);
        assertThat(next.committable()).isEqualTo(105);
        assertThat(next.encodable()).isEmpty();
    }

    @Test
    void shouldReportUncommittedProgressOnce() {
        PartitionTracker tracker = new PartitionTracker();
        tracker.taken(0);
        tracker.done(0);
        assertThat(tracker.isCommitted(tracker.committable(), tracker.metadata(tracker.encodable()))).isFalse();
        tracker.committed(tracker.committable(), tracker.metadata(tracker.encodable()));
        assertThat(tracker.isCommitted(tracker.committable(), tracker.metadata(tracker.encodable()))).isTrue();
        tracker.taken(1);
        tracker.taken(2);
        tracker.done(2);
        assertThat(tracker.isCommitted(tracker.committable(), tracker.metadata(tracker.encodable())))
                .as("2 is done above 1: the metadata changed").isFalse();
    }

    @Test
    void shouldPutBackAnOffsetWhoseCommitWasAborted() {
        PartitionTracker tracker = new PartitionTracker();
        tracker.taken(5);
        tracker.done(5);
        tracker.undone(5);
        assertThat(tracker.committable()).isEqualTo(5);
        assertThat(tracker.inFlight()).isEqualTo(1);
    }

    @Test
    void shouldTakeNoJobThatTheCommitCouldNotListOnceFinishedAboveTheOldestRunningOne() {
        PartitionTracker tracker = new PartitionTracker();
        tracker.taken(0); // a slow job
        for (long offset = 1; offset <= 1131; offset++) {
            assertThat(tracker.hasRoomFor(offset)).as("offset %d", offset).isTrue();
            tracker.taken(offset);
            tracker.done(offset);
        }
        assertThat(tracker.hasRoomFor(1132)).as("1,132 deltas of 3 characters would not fit").isFalse();
        assertThat(tracker.metadata(tracker.encodable())).as("every finished job listed").hasSizeLessThanOrEqualTo(PartitionTracker.MAX_METADATA_CHARS);
        assertThat(tracker.encodable()).hasSize(1131);
        tracker.done(0);
        assertThat(tracker.hasRoomFor(1132)).as("the slow job finished: the commit moves past them all").isTrue();
    }

    /** What the next owner reads from the last commit of {@code owner}. */
    private static PartitionTracker nextOwner(PartitionTracker owner) {
        String metadata = owner.metadata(owner.encodable());
        return PartitionTracker.skipping(owner.committable(), metadata);
    }

    @Test
    void aJobRunningWhenItsOwnerDiedCountsOneCrashMoreForEachNextOwner() {
        PartitionTracker first = new PartitionTracker();
        first.taken(10);
        first.taken(11);
        first.started(10, 0L);
        first.started(11, 0L);
        first.done(11);
        assertThat(first.runningUntoldFor(0, 0)).isTrue();
        String metadata = first.metadata(first.encodable());
        assertThat(metadata.substring(metadata.indexOf(':') + 1).split(",")).as("what the version before reads: finished offsets first")
                .startsWith(Long.toString(1, Character.MAX_RADIX));
        PartitionTracker second = nextOwner(first); // first died
        assertThat(second.crashes(10)).isEqualTo(1);
        assertThat(second.crashes(11)).as("finished").isZero();
        assertThat(second.finishedEarlier(11)).isTrue();

        second.taken(10);
        second.started(10, 0L);
        PartitionTracker third = nextOwner(second); // second died
        assertThat(third.crashes(10)).isEqualTo(2);
    }

    @Test
    void aJobWaitingOrStoppedByItsOwnerKeepsItsCrashesWithoutAddingOne() {
        PartitionTracker first = new PartitionTracker();
        first.taken(3);
        first.started(3, 0L);
        PartitionTracker second = nextOwner(first);
        second.taken(3); // taken, not started yet
        PartitionTracker third = nextOwner(second);
        assertThat(third.crashes(3)).isEqualTo(1);

        third.taken(3);
        third.started(3, 0L);
        third.stopping(); // revoked or shut down: not a crash
        assertThat(nextOwner(third).crashes(3)).isEqualTo(1);
    }

    @Test
    void theListOfRunningJobsStaysWithinItsShareOfTheMetadata() {
        PartitionTracker owner = new PartitionTracker();
        for (long o = 0; o < 5_000; o++) {
            owner.taken(o);
            owner.started(o, 0L);
        }
        for (long o = 1; o < 5_000; o += 3) {
            owner.done(o);
        }
        String metadata = owner.metadata(owner.encodable());
        assertThat(metadata.length()).isLessThanOrEqualTo(PartitionTracker.MAX_METADATA_CHARS);
        assertThat(PartitionTracker.skipping(owner.committable(), metadata).crashes(0)).isEqualTo(1);
    }
}
