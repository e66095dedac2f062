package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.wharf.records.Event;
import io.wharf.secrets.PayloadEnvelope;

/**
 * Events seen within the dedupe window, per function, by idempotency key (the event id when it has none): a
 * re-sent event becomes no second job. An idempotency key also keeps a fingerprint of its first request, so that the
 * key reused for another request is told apart from a retry. An event whose sender promised no copy
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

    /** The job an earlier event with the same key made, and whether that event carried the same request. */
    record First(String jobId, boolean sameRequest) {
    }

    /**
     * The earlier event with the same key within the window, or null, in which case this one is remembered as the
     * first (unless {@code sentOnce} and it has no idempotency key).
     */
    First earlier(String function, Event event, String jobId, boolean sentOnce, long now) {
        if (seen == null) {
            return null;
        }
        forgetBefore(now - windowMillis); // for every event, so the store keeps one window however few are remembered
        if (sentOnce && event.getIdempotencyKey() == null) {
            return null;
        }
        String key = key(function, event, jobId);
        byte[] fingerprint = event.getIdempotencyKey() == null ? new byte[0] : fingerprint(event);
        byte[] first = seen.get(key);
        if (first != null && now - ByteBuffer.wrap(first).getLong() <= windowMillis) {
            return first(first, fingerprint);
        }
        byte[] id = jobId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer entry = ByteBuffer.allocate(8 + id.length + (fingerprint.length == 0 ? 0 : 1 + fingerprint.length)).putLong(now).put(id);
        if (fingerprint.length > 0) {
            entry.put((byte) 0).put(fingerprint);
        }
        seen.put(key, entry.array());
        order.addLast(new Seen(now, key));
        return null;
    }

    /**
     * An entry is when, the job id, then (for an idempotency key) a zero byte and the request's fingerprint. Entries
     * written before fingerprints have none: they count as the same request, as every repeat did then.
     */
    private static First first(byte[] entry, byte[] fingerprint) {
        int end = 8;
        while (end < entry.length && entry[end] != 0) {
            end++;
        }
        String jobId = new String(entry, 8, end - 8, StandardCharsets.UTF_8);
        boolean same = end == entry.length || java.util.Arrays.equals(entry, end + 1, entry.length, fingerprint, 0, fingerprint.length);
        return new First(jobId, same);
    }

    /**
     * What makes two requests under one idempotency key the same request: the payload, and the HTTP call's method, path
     * and query. A sealed payload is left out: each sealing of the same payload differs, and only the worker can open it.
     */
    private static byte[] fingerprint(Event event) {
        MessageDigest digest = sha256();
        if (!PayloadEnvelope.CONTENT_TYPE.equals(event.getContentType())) {
            digest.update(event.getPayload().duplicate());
        }
        if (event.getHttp() != null) {
            digest.update(('\n' + event.getHttp().getMethod() + ' ' + event.getHttp().getPath() + '?' + event.getHttp().getQuery())
                    .getBytes(StandardCharsets.UTF_8));
        }
        return java.util.Arrays.copyOf(digest.digest(), 16);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
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
