package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobQueueTest {
    @Test
    void shouldHoldLaterJobsOfABusyKeyAndLetOthersPass() {
        JobQueue<String> q = new JobQueue<>();
        q.add("a1", "A");
        q.add("a2", "A");
        q.add("b1", "B");
        q.add("n1", null);
        assertThat(q.next()).isEqualTo("a1");
        assertThat(q.next()).isEqualTo("b1");
        assertThat(q.next()).isEqualTo("n1");
        assertThat(q.next()).as("a2 waits for a1").isNull();
        assertThat(q.size()).isEqualTo(1);
        q.finished("A");
        assertThat(q.next()).isEqualTo("a2");
        q.finished("A");
        q.add("a3", "A");
        assertThat(q.next()).as("A is free again").isEqualTo("a3");
    }

    @Test
    void shouldFreeKeysWhenJobsAreDropped() {
        JobQueue<String> q = new JobQueue<>();
        q.add("a1", "A");
        q.add("a2", "A");
        q.removeIf(j -> j.startsWith("a"));
        assertThat(q.size()).isZero();
        q.add("a3", "A");
        assertThat(q.next()).as("no job of A runs: A is free without a finished()").isEqualTo("a3");
    }

    @Test
    void shouldPassAKeyToItsNextJobWhenItsReadyJobIsDropped() {
        JobQueue<String> q = new JobQueue<>();
        q.add("p0:a1", "A"); // ready, of a partition about to be revoked
        q.add("p1:a2", "A"); // waits, of a partition this worker keeps
        q.removeIf(j -> j.startsWith("p0:"));
        assertThat(q.next()).isEqualTo("p1:a2");
        q.finished("A");
        q.add("p1:a3", "A");
        assertThat(q.next()).isEqualTo("p1:a3");
    }
}
