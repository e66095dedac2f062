package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;

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
    void shouldReportUncommittedProgressOnce() {
        PartitionTracker tracker = new PartitionTracker();
        tracker.taken(0);
        assertThat(tracker.hasUncommitted()).as("offset 0 is not done, but 0 is committable").isTrue();
        tracker.done(0);
        tracker.committed(tracker.committable());
        assertThat(tracker.hasUncommitted()).isFalse();
        tracker.taken(1);
        assertThat(tracker.hasUncommitted()).isFalse();
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
}
