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
        q.finished("A");
        q.add("a3", "A");
        assertThat(q.next()).isEqualTo("a3");
    }
}
