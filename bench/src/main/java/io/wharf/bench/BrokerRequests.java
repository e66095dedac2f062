package io.wharf.bench;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.TreeMap;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The requests the embedded broker of this JVM has handled, by request type, from its own request meters (JMX
 * {@code kafka.network:type=RequestMetrics,name=RequestsPerSec}). Counted around each side of a run, they say how
 * often a call makes the brokers work, where {@link EndOffsets} says how much it writes: much of a request's cost is
 * per transaction, not per record, so this is the figure that batching moves.
 */
final class BrokerRequests {
    private BrokerRequests() {
    }

    /** Requests handled so far, by type (every version summed); empty without an embedded broker. */
    static Map<String, Long> read() {
        Map<String, Long> counts = new TreeMap<>();
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            for (ObjectName name : server.queryNames(new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
                counts.merge(name.getKeyProperty("request"), ((Number) server.getAttribute(name, "Count")).longValue(), Long::sum);
            }
        } catch (JMException e) {
            return Map.of();
        }
        return counts;
    }

    /** "4.8 {Produce=1.21, Fetch=0.81, ...}": requests per call between two readings, types under 0.01 left out. */
    static String perCall(Map<String, Long> before, Map<String, Long> after, int calls) {
        Map<String, String> shown = new java.util.LinkedHashMap<>();
        double total = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            double n = (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / (double) calls;
            total += n;
            if (n >= 0.01) {
                shown.put(e.getKey(), String.format(java.util.Locale.ROOT, "%.2f", n));
            }
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", total, shown);
    }
}
