package io.wharf.dispatcher.internals;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.MeterRegistry;
import io.wharf.ops.Metrics;
import io.wharf.records.DeadLetter;
import io.wharf.records.JobPhase;
import io.wharf.records.JobState;

/**
 * Every meter a dispatcher records, named here and nowhere else (docs/metrics.md lists them). They are counted
 * from what the dispatcher writes ({@link MeterTap}): each job state it sets and each dead letter, so a count and the
 * topics never disagree. An aborted transaction's records are counted too (they are written again): a count may run
 * ahead of the topic after a crash, never behind.
 */
public final class DispatcherMeters {
    /** Job states the dispatcher set, by function and phase: QUEUED (dispatched), THROTTLED, DELAYED, RETRYING, and final ones. */
    public static final String STATES = "wharf.dispatcher.states";
    /** Jobs the dispatcher ended itself (rejected, expired, cancelled, throttled past the backlog, given up after retries), by function and status. */
    public static final String ENDED = "wharf.dispatcher.jobs.ended";
    /** Records sent to the dead-letter topic, by function ({@code none} when the record names none) and status. */
    public static final String DEAD_LETTERED = "wharf.dispatcher.dead.lettered";

    /** Jobs held back by their function's rate limit or concurrency cap, waiting in the dispatcher, by function. */
    public static final String PENDING = "wharf.dispatcher.pending";
    /** Jobs held back by their tenant's limits, by tenant. */
    public static final String TENANT_PENDING = "wharf.dispatcher.tenant.pending";
    /** How late a punctuation (releasing held jobs, firing timers and schedules) ran after it was due, by stage. */
    public static final String PUNCTUATION_LAG = "wharf.dispatcher.punctuation.lag";

    private final MeterRegistry registry;
    private final Map<String, AtomicLong> pending = new ConcurrentHashMap<>();
    /** Counters by name and tag values ({@link Metrics#key}): each record looks its counter up in one map instead of building its id. */
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();

    public DispatcherMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    public MeterRegistry registry() {
        return registry;
    }

    private Counter counter(String name, String description, String... tags) {
        return counters.computeIfAbsent(Metrics.key(name, tags), k -> Counter.builder(name).description(description).tags(tags)
                .register(registry));
    }

    /** {@code delta} more jobs held for {@code owner} (a function, or a tenant for {@link #TENANT_PENDING}), across this instance's tasks. */
    void pending(String meter, String owner, long delta) {
        pending.computeIfAbsent(meter + "\0" + owner, k -> {
            AtomicLong count = new AtomicLong();
            Gauge.builder(meter, count, AtomicLong::get).description("Jobs held back, waiting in the dispatcher")
                    .tag(meter.equals(TENANT_PENDING) ? "tenant" : "function", owner).register(registry);
            return count;
        }).addAndGet(delta);
    }

    /** A punctuation of {@code stage} ran {@code millis} after it was due. */
    void late(String stage, long millis) {
        Timer.builder(PUNCTUATION_LAG).description("How late punctuations ran").tag("stage", stage).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(1)).register(registry)
                .record(Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    /** Counts a record the dispatcher is about to write, if it is one it meters. */
    void written(Object value) {
        switch (value) {
            case JobState state -> {
                counter(STATES, "Job states set by the dispatcher", "function", state.getFunction(), "phase", state.getPhase().name()).increment();
                if (state.getDone() && state.getPhase() != JobPhase.SUCCEEDED) {
                    counter(ENDED, "Jobs the dispatcher ended itself", "function", state.getFunction(), "status", state.getPhase().name()).increment();
                }
            }
            case DeadLetter letter -> counter(DEAD_LETTERED, "Records sent to the dead-letter topic",
                    "function", letter.getFunction() == null ? "none" : letter.getFunction(), "status", letter.getStatus().name()).increment();
            default -> {
            }
        }
    }
}
