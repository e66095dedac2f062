package io.wharf.dispatcher.internals;

import java.time.Duration;
import java.util.function.LongConsumer;

import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;

/**
 * A wall-clock punctuation armed only while there is something to do, for the next moment it is needed. Streams
 * marks a task for commit after every punctuation, and an exactly-once commit is a transaction even with nothing
 * in it: a fixed 10 ms punctuator on every task kept the stream thread committing idle tasks, which held new
 * events back by ~10 ms. One-shot: the callback re-arms it if more is due.
 */
final class Wakeup {
    private final ProcessorContext<?, ?> context;
    private final LongConsumer callback;
    private final long tickMillis;
    private final LongConsumer late;
    private Cancellable scheduled;
    private long at = Long.MAX_VALUE;

    /** {@code late} is told how many milliseconds after its due time each punctuation ran. */
    Wakeup(ProcessorContext<?, ?> context, Duration tick, LongConsumer callback, LongConsumer late) {
        this.context = context;
        this.callback = callback;
        this.late = late;
        this.tickMillis = Math.max(1, tick.toMillis());
    }

    /** Makes sure a punctuation comes no later than {@code due} (and no sooner than one tick from now). */
    void atOrBefore(long due, long now) {
        long when = Math.max(now + tickMillis, due);
        if (scheduled != null && at <= when) {
            return;
        }
        cancel();
        at = when;
        scheduled = context.schedule(Duration.ofMillis(when - now), PunctuationType.WALL_CLOCK_TIME, this::fire);
    }

    /** One tick from now: for held jobs waiting on tokens. */
    void soon(long now) {
        atOrBefore(now, now);
    }

    /** After a round of work: every tick while {@code busy}, else at the next timer ({@code due}), else not at all. */
    void rearm(long now, boolean busy, Long due) {
        if (busy) {
            soon(now);
        } else if (due != null) {
            atOrBefore(due, now);
        } else {
            cancel();
        }
    }

    void cancel() {
        if (scheduled != null) {
            scheduled.cancel();
            scheduled = null;
            at = Long.MAX_VALUE;
        }
    }

    private void fire(long now) {
        late.accept(now - at);
        cancel();
        callback.accept(now);
    }
}
