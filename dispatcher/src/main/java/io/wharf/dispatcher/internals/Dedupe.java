package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.wharf.records.Event;

/**
 * Events seen within the dedupe window, per function, by idempotency key (the event id when it has none): a
 * re-sent event becomes no second job. An event whose sender promised no copy
 * ({@link io.wharf.topics.Topics#SENT_ONCE_HEADER}) and that has no idempotency key is not remembered: nothing could
 * match it. An in-memory store (changelogged) maps each key to when it was seen and its job; the keys in the order
 * they were seen, rebuilt from the store at start, let each call drop those past the window in constant time, so the
 * store holds one window of events. (A window store's fetch walks every timestamp
 * of the window: a 5-minute window at thousands of events a second made each lookup cost milliseconds.)
 */
final class Dedupe {
    private record Seen(long at, String key) {
    }

    private final KeyValueStore<String, byte[]> seen;
    private final long windowMillis;
    private final ArrayDeque<Seen> order = new ArrayDeque<>();

    /** {@code seen} null (a window of 0) turns dedupe off. */
    Dedupe(KeyValueStore<String, byte[]> seen, Duration window) {
        this.seen = seen;
        this.windowMillis = window.toMillis();
        if (seen != null) {
            List<Seen> all = new ArrayList<>();
            try (KeyValueIterator<String, byte[]> it = seen.all()) {
                while (it.hasNext()) {
                    KeyValue<String, byte[]> entry = it.next();
                    all.add(new Seen(ByteBuffer.wrap(entry.value).getLong(), entry.key));
                }
            }
            all.sort(Comparator.comparingLong(Seen::at));
            order.addAll(all);
        }
    }

    /** A key the store can hold: the function, then the idempotency key or event id. */
    private static String key(String function, Event event, String jobId) {
        String idempotencyKey = event.getIdempotencyKey();
        return function + '\u0000' + (idempotencyKey != null ? "k:" + idempotencyKey : "i:" + jobId);
    }

    /**
     * The job id of an earlier event with the same key within the window, or null, in which case this one is
     * remembered as the first (unless {@code sentOnce} and it has no idempotency key).
     */
    String earlier(String function, Event event, String jobId, boolean sentOnce, long now) {
        if (seen == null) {
            return null;
        }
        forgetBefore(now - windowMillis); // for every event, so the store keeps one window however few are remembered
        if (sentOnce && event.getIdempotencyKey() == null) {
            return null;
        }
        String key = key(function, event, jobId);
        byte[] first = seen.get(key);
        if (first != null && now - ByteBuffer.wrap(first).getLong() <= windowMillis) {
            return new String(first, 8, first.length - 8, StandardCharsets.UTF_8);
        }
        byte[] id = jobId.getBytes(StandardCharsets.UTF_8);
        seen.put(key, ByteBuffer.allocate(8 + id.length).putLong(now).put(id).array());
        order.addLast(new Seen(now, key));
        return null;
    }

    private void forgetBefore(long cutoff) {
        while (!order.isEmpty() && order.peekFirst().at() < cutoff) {
            Seen old = order.pollFirst();
            byte[] current = seen.get(old.key());
            if (current != null && ByteBuffer.wrap(current).getLong() == old.at()) {
                seen.delete(old.key());
            }
        }
    }

    long windowMillis() {
        return windowMillis;
    }
}
