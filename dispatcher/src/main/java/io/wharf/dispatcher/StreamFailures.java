package io.wharf.dispatcher;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.streams.errors.MissingSourceTopicException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.serde.SchemaRegistryException;

/**
 * What happens to a failed stream thread. One that cannot recover (not authorized, a topic deleted) stops the
 * dispatcher, which then exits non-zero; any other (a registry or broker away) is replaced, after a pause that
 * doubles with each failure in a row up to a ceiling, so that an outage is not met by replacing threads in a tight
 * loop. A thread that ran a while without failing resets the pause.
 */
final class StreamFailures implements StreamsUncaughtExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(StreamFailures.class);
    static final long FIRST_PAUSE_MILLIS = 500;
    static final long MAX_PAUSE_MILLIS = 30_000;
    /** A failure this long after the previous one starts the pauses over. */
    static final long CALM_MILLIS = 120_000;

    private final LongSupplier millis;
    private final Sleeper sleeper;
    private final BooleanSupplier closing;
    private long lastFailure = Long.MIN_VALUE;
    private long pause;

    /** Waits {@code millis} unless the dispatcher is closing. */
    interface Sleeper {
        void sleep(long millis, BooleanSupplier closing);
    }

    StreamFailures(BooleanSupplier closing) {
        this(System::currentTimeMillis, StreamFailures::sleep, closing);
    }

    StreamFailures(LongSupplier millis, Sleeper sleeper, BooleanSupplier closing) {
        this.millis = millis;
        this.sleeper = sleeper;
        this.closing = closing;
    }

    @Override
    public synchronized StreamThreadExceptionResponse handle(Throwable e) {
        if (fatal(e)) {
            log.error("Dispatcher stream thread failed and cannot recover; the dispatcher stops", e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        long now = millis.getAsLong();
        pause = lastFailure != Long.MIN_VALUE && now - lastFailure < CALM_MILLIS ? Math.min(MAX_PAUSE_MILLIS, pause * 2) : FIRST_PAUSE_MILLIS;
        if (SchemaRegistryException.isUnavailable(e)) {
            log.warn("Dispatcher stream thread failed: the schema registry is unavailable ({}); replacing it in {} ms", e.getMessage(), pause);
        } else {
            log.error("Dispatcher stream thread failed; replacing it in {} ms", pause, e);
        }
        sleeper.sleep(pause, closing);
        lastFailure = millis.getAsLong(); // the calm is counted from the replacement's start
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    private static boolean fatal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AuthorizationException || t instanceof MissingSourceTopicException || t instanceof UnsupportedVersionException) {
                return true;
            }
        }
        return false;
    }

    private static void sleep(long millis, BooleanSupplier closing) {
        long deadline = System.currentTimeMillis() + millis;
        while (!closing.getAsBoolean() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(Math.min(100, Math.max(1, deadline - System.currentTimeMillis())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
