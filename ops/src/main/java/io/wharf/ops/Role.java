package io.wharf.ops;

import java.time.Duration;
import java.util.List;

/** A long-running part of Wharf (a dispatcher, a worker): started once, stopped once, and able to say where it is. */
public interface Role extends AutoCloseable {
    /** Where a role is in its life; {@link #STOPPED} and {@link #FAILED} are final. */
    enum State {
        CREATED, STARTING, RUNNING, STOPPING, STOPPED, FAILED;

        public boolean ended() {
            return this == STOPPED || this == FAILED;
        }
    }

    /** One condition of a role's readiness: what it is, whether it holds, and what to look at when it does not. */
    record Check(String name, boolean ok, String detail) {
    }

    /**
     * What must hold for the role to do its work (broker connected, partitions assigned, Docker engine answering...),
     * each checked now: {@code /readyz} answers 200 only when all hold. By default: the role is running.
     */
    default List<Check> readiness() {
        return List.of(new Check("running", state() == State.RUNNING, "the role is " + state()));
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
