package io.wharf.gateway.http;

import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import io.wharf.records.JobState;

/**
 * The live job stream: every state this gateway's view of {@code wharf.status} receives, handed to each open stream
 * that may see it. A stream reads from a bounded queue of its own on its request's thread, so a slow reader never holds
 * the view up: one that falls 10,000 states behind is ended (its page reconnects and reads the list again).
 */
public final class JobStream {
    static final int BACKLOG = 10_000;

    /** One open stream: what it may see and what waits to be sent to it. */
    static final class Subscriber {
        final Predicate<JobState> sees;
        final BlockingQueue<JobState> queue = new ArrayBlockingQueue<>(BACKLOG);
        volatile boolean overflowed;

        Subscriber(Predicate<JobState> sees) {
            this.sees = sees;
        }
    }

    private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();

    /** A state arrived (called by the view's reader thread). */
    public void publish(JobState state) {
        for (Subscriber s : subscribers) {
            if (!s.overflowed && s.sees.test(state) && !s.queue.offer(state)) {
                s.overflowed = true;
            }
        }
    }

    Subscriber subscribe(Predicate<JobState> sees) {
        Subscriber s = new Subscriber(sees);
        subscribers.add(s);
        return s;
    }

    void unsubscribe(Subscriber s) {
        subscribers.remove(s);
    }

    int open() {
        return subscribers.size();
    }
}
