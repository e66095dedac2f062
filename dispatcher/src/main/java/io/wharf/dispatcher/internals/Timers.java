package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.wharf.serde.SchemaRegistryException;

/**
 * The one timer mechanism: a store keyed by {@code dueMillis (8 bytes, big-endian) | kind | id}, so a range
 * scan from the start up to now returns what is due, oldest first. A wall-clock punctuator calls
 * {@link #due}; entries are removed as they are taken, in the same transaction as what firing them writes.
 * Retries, delayed jobs, pending-job expiry, schedules and concurrency-slot leases all use it.
 */
final class Timers {
    enum Kind {
        /** A job to admit (delayed event or retry); value = serialized job. */
        JOB,
        /** A pending job to expire if still pending; value = its pending-store key. */
        EXPIRE,
        /** A schedule's next due time; value empty, id = schedule id. */
        SCHEDULE,
        /** A concurrency slot's lease end; value empty, id = {@code owner \0 jobId / attempt}. */
        LEASE
    }

    record Timer(long due, Kind kind, String id, byte[] value) {
    }

    private final KeyValueStore<Bytes, byte[]> store;

    Timers(KeyValueStore<Bytes, byte[]> store) {
        this.store = store;
    }

    private static Bytes key(long due, Kind kind, String id) {
        byte[] idBytes = id.getBytes(StandardCharsets.UTF_8);
        return Bytes.wrap(ByteBuffer.allocate(9 + idBytes.length).putLong(Math.max(0, due)).put((byte) kind.ordinal()).put(idBytes).array());
    }

    void schedule(long due, Kind kind, String id, byte[] value) {
        store.put(key(due, kind, id), value == null ? new byte[0] : value);
    }

    void cancel(long due, Kind kind, String id) {
        store.delete(key(due, kind, id));
    }

    /** The earliest due time held, or null when there is none. */
    Long firstDue() {
        try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
            while (it.hasNext()) {
                byte[] key = it.next().key.get();
                if (key.length >= 9) {
                    return ByteBuffer.wrap(key).getLong();
                }
            }
        }
        return null;
    }

    /** Removes and returns up to {@code max} timers due at or before {@code now}, oldest first. */
    private List<Timer> due(long now, int max) {
        List<Timer> fired = new ArrayList<>();
        Bytes to = Bytes.wrap(ByteBuffer.allocate(8).putLong(now + 1).array());
        try (KeyValueIterator<Bytes, byte[]> it = store.range(null, to)) {
            while (it.hasNext() && fired.size() < max) {
                KeyValue<Bytes, byte[]> entry = it.next();
                byte[] key = entry.key.get();
                if (key.length < 9) {
                    continue;
                }
                ByteBuffer buffer = ByteBuffer.wrap(key);
                long due = buffer.getLong();
                if (due > now) {
                    break;
                }
                Kind kind = Kind.values()[buffer.get()];
                String id = new String(Arrays.copyOfRange(key, 9, key.length), StandardCharsets.UTF_8);
                fired.add(new Timer(due, kind, id, entry.value));
            }
        }
        return fired;
    }

    /**
     * Hands up to {@code max} due timers to {@code handle}, each deleted once handled: records it sends and its
     * deletion go out in the same transaction. A timer whose handling throws is passed to {@code poisoned} and
     * deleted, and the rest still fire; a registry that cannot answer fails the task instead, which keeps every
     * timer not yet committed as handled.
     */
    void fire(long now, int max, Consumer<Timer> handle, BiConsumer<Timer, RuntimeException> poisoned) {
        for (Timer timer : due(now, max)) {
            try {
                handle.accept(timer);
            } catch (RuntimeException e) {
                if (SchemaRegistryException.isUnavailable(e)) {
                    throw e;
                }
                poisoned.accept(timer, e);
            }
            store.delete(key(timer.due(), timer.kind(), timer.id()));
        }
    }
}
