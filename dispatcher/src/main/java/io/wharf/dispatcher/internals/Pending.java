package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

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

    Pending(KeyValueStore<Bytes, byte[]> store) {
        this.store = store;
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
    }

    byte[] remove(Bytes key) {
        return store.delete(key);
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
