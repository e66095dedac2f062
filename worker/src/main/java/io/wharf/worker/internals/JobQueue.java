package io.wharf.worker.internals;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Jobs taken from Kafka and not yet running. A job with an ordering key waits while an earlier job with the
 * same key runs or waits, so one key's jobs run strictly one after another in offset order; jobs without a
 * key, and other keys, proceed. Used by the poll-loop thread only.
 *
 * @param <E> what the worker keeps per job
 */
public final class JobQueue<E> {
    /** A job and its ordering key (null for none). */
    private record Entry<E>(E job, String key) {
    }

    private final ArrayDeque<Entry<E>> ready = new ArrayDeque<>();
    private final Map<String, ArrayDeque<E>> waiting = new HashMap<>();
    /** Keys with a job running or ready; their later jobs wait. */
    private final Map<String, Boolean> busy = new HashMap<>();
    private int waitingCount;

    /** Adds a job; {@code key} is its ordering key, or null if it may run alongside anything. */
    public void add(E job, String key) {
        if (key == null) {
            ready.add(new Entry<>(job, null));
        } else if (busy.containsKey(key)) {
            waiting.computeIfAbsent(key, k -> new ArrayDeque<>()).add(job);
            waitingCount++;
        } else {
            busy.put(key, Boolean.TRUE);
            ready.add(new Entry<>(job, key));
        }
    }

    /** The next job that may start, or null. */
    public E next() {
        Entry<E> next = ready.poll();
        return next == null ? null : next.job();
    }

    /** A job with {@code key} ended (or was dropped): the key's next job becomes ready. */
    public void finished(String key) {
        if (key == null) {
            return;
        }
        ArrayDeque<E> queue = waiting.get(key);
        if (queue == null || queue.isEmpty()) {
            waiting.remove(key);
            busy.remove(key);
            return;
        }
        waitingCount--;
        ready.addFirst(new Entry<>(queue.poll(), key));
        if (queue.isEmpty()) {
            waiting.remove(key);
        }
    }

    /**
     * Drops the jobs that match, e.g. those of a revoked partition. A key whose ready job is dropped passes to its next
     * waiting job, or is freed: nothing else would free it, as a dropped job never runs to finish.
     */
    public void removeIf(Predicate<E> drop) {
        List<String> freed = new ArrayList<>();
        ready.removeIf(entry -> {
            if (!drop.test(entry.job())) {
                return false;
            }
            if (entry.key() != null) {
                freed.add(entry.key());
            }
            return true;
        });
        for (Iterator<Map.Entry<String, ArrayDeque<E>>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
            ArrayDeque<E> queue = it.next().getValue();
            int before = queue.size();
            queue.removeIf(drop);
            waitingCount -= before - queue.size();
            if (queue.isEmpty()) {
                it.remove();
            }
        }
        freed.forEach(this::finished);
    }

    public void clear() {
        ready.clear();
        waiting.clear();
        busy.clear();
        waitingCount = 0;
    }

    /** Jobs held, ready or waiting. */
    public int size() {
        return ready.size() + waitingCount;
    }
}
