package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Jobs held back by a rate limit or a concurrency cap, keyed {@code function | 0 | priority | sequence} so
 * that a range scan over one function returns them by priority, then by arrival.
 */
final class Pending {
    private final KeyValueStore<Bytes, byte[]> store;
    private final DispatcherMeters meters;
    private final String meter;
    /** Held jobs by owner in this task's store, counted into {@code meter} and taken out again at {@link #close}. */
    private final Map<String, Long> counts = new HashMap<>();

    /** Counts the jobs the store holds (restored after a restart or a move) into {@code meter}. */
    Pending(KeyValueStore<Bytes, byte[]> store, DispatcherMeters meters, String meter) {
        this.store = store;
        this.meters = meters;
        this.meter = meter;
        try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
            it.forEachRemaining(entry -> count(owner(entry.key), 1));
        }
    }

    private void count(String owner, long delta) {
        counts.merge(owner, delta, Long::sum);
        meters.pending(meter, owner, delta);
    }

    /** The task is closing (moved, or the instance stops): its held jobs are another instance's to count. */
    void close() {
        counts.forEach((owner, n) -> meters.pending(meter, owner, -n));
        counts.clear();
    }

    static Bytes key(String function, int priority, long sequence) {
        byte[] name = function.getBytes(StandardCharsets.UTF_8);
        return Bytes.wrap(ByteBuffer.allocate(name.length + 10).put(name).put((byte) 0).put((byte) priority).putLong(sequence).array());
    }

    private static Bytes prefix(String function, byte terminator) {
        byte[] name = function.getBytes(StandardCharsets.UTF_8);
        return Bytes.wrap(ByteBuffer.allocate(name.length + 1).put(name).put(terminator).array());
    }

    /** The owner (function or tenant) a pending key belongs to. */
    static String owner(Bytes key) {
        byte[] bytes = key.get();
        return new String(bytes, 0, Math.max(0, bytes.length - 10), StandardCharsets.UTF_8);
    }

    void put(Bytes key, byte[] job) {
        store.put(key, job);
        count(owner(key), 1);
    }

    byte[] remove(Bytes key) {
        byte[] removed = store.delete(key);
        if (removed != null) {
            count(owner(key), -1);
        }
        return removed;
    }

    /** Up to {@code max} pending entries of a function, highest priority (0) first, then oldest first. */
    List<KeyValue<Bytes, byte[]>> head(String function, int max) {
        List<KeyValue<Bytes, byte[]>> head = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = store.range(prefix(function, (byte) 0), prefix(function, (byte) 1))) {
            while (it.hasNext() && head.size() < max) {
                KeyValue<Bytes, byte[]> entry = it.next();
                if (entry.key.get().length == function.getBytes(StandardCharsets.UTF_8).length + 10) {
                    head.add(entry);
                }
            }
        }
        return head;
    }
}
