package io.wharf.sources;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Every meter the sources role records, named here and nowhere else (docs/metrics.md lists them). */
public final class SourcesMeters {
    /** Records a trigger read and handled (an event's, or dead-lettered), by trigger. */
    public static final String RECORDS = "wharf.sources.records";
    /** Events a trigger sent to wharf.events, by trigger: fewer than its records when it batches. */
    public static final String EVENTS = "wharf.sources.events";
    /** Records a trigger could not take (not its format, too large), sent to wharf.dlq with the reason. */
    public static final String DEAD_LETTERED = "wharf.sources.dead.lettered";
    /** Transactions a trigger aborted and read again (a broker away, a rebalance in the middle). */
    public static final String ABORTS = "wharf.sources.aborts";
    /** Records of a trigger's topic not yet taken, on the partitions this instance holds. */
    public static final String LAG = "wharf.sources.lag.records";

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public SourcesMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    void records(String trigger, int records, int events, int deadLettered) {
        counter(RECORDS, "Records a trigger read and handled", trigger).increment(records);
        counter(EVENTS, "Events a trigger sent to wharf.events", trigger).increment(events);
        if (deadLettered > 0) {
            counter(DEAD_LETTERED, "Records a trigger sent to wharf.dlq", trigger).increment(deadLettered);
        }
    }

    void aborted(String trigger) {
        counter(ABORTS, "Transactions a trigger aborted and read again", trigger).increment();
    }

    /** Shows {@code lag} of {@code source} under the trigger's name until {@link #forget} it. */
    <T> void lag(String trigger, T source, ToDoubleFunction<T> lag) {
        Gauge.builder(LAG, source, lag).description("Records of a trigger's topic not yet taken, on this instance's partitions")
                .tag("trigger", trigger).strongReference(false).register(registry);
    }

    /** Removes a deleted trigger's lag gauge. */
    void forget(String trigger) {
        registry.find(LAG).tag("trigger", trigger).meters().forEach(registry::remove);
    }

    private Counter counter(String name, String description, String trigger) {
        return counters.computeIfAbsent(name + '|' + trigger,
                k -> Counter.builder(name).description(description).tag("trigger", trigger).register(registry));
    }
}
