package io.wharf.ops;

import java.util.List;
import java.util.Locale;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * A process's meters in Prometheus's format, with the JVM's and the process's own bound: one per process, shared by
 * the roles it runs (so {@code wharf dev} shows its dispatcher's, worker's and gateway's meters on one page; each
 * role's meters carry its name, {@code wharf_worker_...}, so they never mix).
 */
public final class Metrics implements AutoCloseable {
    /** Prometheus's text format, the default; OpenMetrics when the scraper asks for it. */
    static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics(); // listens to the GC until closed

    public Metrics() {
        for (MeterBinder binder : List.of(new ClassLoaderMetrics(), new JvmMemoryMetrics(), gc, new JvmThreadMetrics(), new ProcessorMetrics(),
                new UptimeMetrics(), new FileDescriptorMetrics())) {
            binder.bindTo(registry);
        }
    }

    /**
     * A meter's name and tag values as a map key, for roles that look a meter up per record or job: the strings keep
     * their hashes, where joining them made a new string to hash on every lookup.
     */
    public static List<String> key(String name, String... tags) {
        String[] key = new String[tags.length + 1];
        key[0] = name;
        System.arraycopy(tags, 0, key, 1, tags.length);
        return java.util.Arrays.asList(key);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Readiness as a meter, checked at each scrape: 1 when every check of {@code role} holds, else 0. */
    public static final String READY = "wharf.role.ready";

    /** Shows {@code role}'s readiness as {@code wharf_role_ready{role=NAME}}, which alert rules can watch (docs/metrics.md). */
    public void watch(String name, Role role) {
        Gauge.builder(READY, role, r -> r.readiness().stream().allMatch(Role.Check::ok) ? 1 : 0).description("1 when every readiness check holds")
                .tag("role", name).register(registry);
    }

    /** The content type to answer a scrape with, from its {@code Accept} header. */
    public static String contentType(String accept) {
        return accept != null && accept.toLowerCase(Locale.ROOT).contains("application/openmetrics-text") ? OPEN_METRICS : TEXT;
    }

    /** Every meter, in {@code contentType} (one of {@link #contentType}'s answers). */
    public String scrape(String contentType) {
        return registry.scrape(contentType);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
