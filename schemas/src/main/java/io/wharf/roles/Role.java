package io.wharf.roles;

import java.time.Duration;

/** A long-running part of Wharf (a dispatcher, a worker): started once, stopped once, and able to say where it is. */
public interface Role extends AutoCloseable {
    /** Where a role is in its life; {@link #STOPPED} and {@link #FAILED} are final. */
    enum State {
        CREATED, STARTING, RUNNING, STOPPING, STOPPED, FAILED;

        public boolean ended() {
            return this == STOPPED || this == FAILED;
        }
    }

    /** Starts the role; throws when it cannot (the broker or registry never answered, say). */
    Role start();

    State state();

    /** Waits until the role stopped or failed; true if it did within {@code timeout}. */
    boolean awaitStop(Duration timeout);

    /** Stops the role, waiting a bounded time for what it has under way; idempotent. */
    @Override
    void close();
}
