package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

/** An abandoned job always runs to its completion, interrupted: a job abandoned before it started must not hold its slot. */
class JobTaskTest {
    @Test
    void shouldRunATaskAbandonedBeforeItStartedInterruptedFromItsFirstLine() {
        AtomicBoolean interrupted = new AtomicBoolean();
        JobTask task = new JobTask(() -> interrupted.set(Thread.currentThread().isInterrupted()));
        task.abandon();
        task.run();
        assertThat(interrupted).isTrue();
        assertThat(task.done()).isTrue();
    }

    @Test
    void shouldInterruptARunningTask() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        JobTask task = new JobTask(() -> {
            started.countDown();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        });
        Thread.ofVirtual().start(task);
        started.await();
        task.abandon();
        await().atMost(Duration.ofSeconds(5)).until(task::done);
        assertThat(interrupted).isTrue();
    }
}
