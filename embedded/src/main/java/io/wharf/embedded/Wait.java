package io.wharf.embedded;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling with a deadline, for code outside tests (tests use Awaitility). */
public final class Wait {
    private Wait() {
    }

    /** Polls {@code condition} every {@code interval} until it holds; throws naming {@code what} at the deadline. */
    public static void until(String what, Duration timeout, Duration interval, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            pause(interval);
        }
    }

    /** Sleeps, restoring the interrupt flag if interrupted. */
    public static void pause(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
