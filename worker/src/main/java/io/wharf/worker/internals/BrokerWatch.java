package io.wharf.worker.internals;

import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a worker that has lost its brokers for good: its consumer has had no response from any broker (fetches,
 * heartbeats, metadata: a member of a group hears from its coordinator every heartbeat interval) for longer than
 * the timeout. The worker then fails, and its supervisor restarts it; without this it would wait forever.
 */
public final class BrokerWatch {
    private static final Logger log = LoggerFactory.getLogger(BrokerWatch.class);
    private static final long CHECK_EVERY_NANOS = 1_000_000_000L;

    private final Supplier<Map<MetricName, ? extends Metric>> metrics;
    private final long timeoutNanos;
    private final LongSupplier nanoTime;
    private double lastResponses = -1;
    private volatile long lastHeard; // read by readiness probes
    private long lastCheck;

    /** {@code metrics}: the consumer's; the timeout counts from now. */
    public BrokerWatch(Supplier<Map<MetricName, ? extends Metric>> metrics, long timeoutMillis, LongSupplier nanoTime) {
        this.metrics = metrics;
        this.timeoutNanos = timeoutMillis * 1_000_000L;
        this.nanoTime = nanoTime;
        this.lastHeard = nanoTime.getAsLong();
        this.lastCheck = lastHeard;
    }

    /** How long since a broker last answered, as of the last check (at most a second old while the loop runs). */
    public long silentMillis() {
        return (nanoTime.getAsLong() - lastHeard) / 1_000_000;
    }

    /** Lost for good: no broker answered within the timeout. */
    public static final class BrokerLostException extends KafkaException {
        BrokerLostException(String message) {
            super(message);
        }
    }

    /**
     * Checks (at most once a second) whether a broker answered since the last check.
     *
     * @throws BrokerLostException when none did for longer than the timeout
     */
    public void check() {
        long now = nanoTime.getAsLong();
        if (now - lastCheck < CHECK_EVERY_NANOS) {
            return;
        }
        lastCheck = now;
        double responses = responses();
        if (responses < 0 || responses != lastResponses) {
            lastResponses = responses;
            lastHeard = now;
            return;
        }
        if (now - lastHeard > timeoutNanos) {
            throw new BrokerLostException("No Kafka broker has answered for " + (now - lastHeard) / 1_000_000 + " ms (more than "
                    + "wharf.worker.broker.timeout.ms, " + timeoutNanos / 1_000_000 + " ms): the worker stops so that its supervisor can "
                    + "restart it; its unfinished jobs run again on the partitions' next owner");
        }
    }

    /**
     * Calls {@code call} (a blocking client call: initializing transactions, reading committed offsets) again each
     * time it times out, as long as the brokers have been away for less than {@code timeoutMillis}; and after a wakeup,
     * which only means a job finished meanwhile (the loop sees to it after this call).
     *
     * @throws BrokerLostException when they have been away longer
     */
    public static <T> T untilAnswered(String what, long timeoutMillis, Supplier<T> call) {
        long start = System.nanoTime();
        while (true) {
            try {
                return call.get();
            } catch (WakeupException e) {
                // again at once
            } catch (TimeoutException e) {
                long away = (System.nanoTime() - start) / 1_000_000;
                if (away > timeoutMillis) {
                    throw new BrokerLostException("No Kafka broker answered " + what + " for " + away + " ms (more than "
                            + "wharf.worker.broker.timeout.ms, " + timeoutMillis + " ms): the worker stops so that its supervisor can restart it");
                }
                log.warn("No broker answered {} yet ({} ms); asking again", what, away);
            }
        }
    }

    /** Responses the consumer has received from brokers so far; -1 if its client does not say. */
    private double responses() {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.get().entrySet()) {
            if (e.getKey().name().equals("response-total") && e.getKey().group().equals("consumer-metrics")
                    && e.getValue().metricValue() instanceof Number n) {
                return n.doubleValue();
            }
        }
        return -1;
    }
}
