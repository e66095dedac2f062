package io.wharf.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;

/**
 * What a role records about its work: meters (see {@link Metrics}) and trace spans (see {@link Traces}). A role
 * embedded in a test or a tool gets {@link #none()}: meters nobody reads, spans that only carry the caller's context on.
 */
public record Telemetry(MeterRegistry meters, OpenTelemetry openTelemetry) {
    public static Telemetry none() {
        return new Telemetry(new SimpleMeterRegistry(), OpenTelemetry.noop());
    }

    /** The tracer of a Wharf role ({@code dispatcher}, {@code worker}, {@code gateway}). */
    public Tracer tracer(String role) {
        return openTelemetry.getTracer("io.wharf." + role);
    }
}
