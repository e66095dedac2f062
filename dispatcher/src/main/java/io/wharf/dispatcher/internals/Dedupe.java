package io.wharf.dispatcher.internals;

import java.time.Duration;

import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import io.wharf.records.Event;

/**
 * Events seen within the dedupe window, per function, by idempotency key (the event id when it has none): a
 * re-sent event becomes no second job. A window store keeps them, in memory and changelogged, and drops them as
 * they age out, so it holds at most the events of one window.
 */
final class Dedupe {
    private final WindowStore<String, String> seen;
    private final long windowMillis;

    /** {@code seen} null (a window of 0) turns dedupe off. */
    Dedupe(WindowStore<String, String> seen, Duration window) {
        this.seen = seen;
        this.windowMillis = window.toMillis();
    }

    /** A key the store can hold: the function, then the idempotency key or event id. */
    private static String key(String function, Event event, String jobId) {
        String idempotencyKey = event.getIdempotencyKey();
        return function + '\u0000' + (idempotencyKey != null ? "k:" + idempotencyKey : "i:" + jobId);
    }

    /**
     * The job id of an earlier event with the same key within the window, or null, in which case this one is
     * remembered as the first.
     */
    String earlier(String function, Event event, String jobId, long now) {
        if (seen == null) {
            return null;
        }
        String key = key(function, event, jobId);
        try (WindowStoreIterator<String> it = seen.fetch(key, now - windowMillis, now)) {
            if (it.hasNext()) {
                return it.next().value;
            }
        }
        seen.put(key, jobId, now);
        return null;
    }

    long windowMillis() {
        return windowMillis;
    }
}
