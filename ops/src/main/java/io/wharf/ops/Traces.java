package io.wharf.ops;

import java.util.HashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;

/**
 * W3C trace context as Wharf carries it: a {@code traceparent} (and {@code tracestate}) in a string map (an event's
 * headers, a job's trace context), read from and written to the places a call passes, and OpenTelemetry set up from
 * the standard {@code OTEL_*} variables: spans are exported with OTLP when an endpoint is given, not at all when not.
 */
public final class Traces {
    private static final Logger log = LoggerFactory.getLogger(Traces.class);
    public static final String TRACEPARENT = "traceparent";
    public static final String TRACESTATE = "tracestate";
    private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
    private static final TextMapGetter<Map<String, String>> MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private Traces() {
    }

    /** The context {@code carrier} names (a remote parent), or the root when it names none or a malformed one. */
    public static Context extract(Map<String, String> carrier) {
        return W3C.extract(Context.root(), carrier, MAP);
    }

    /** {@code carrier} with the trace context of {@code span}, in a new map: the next hop's parent; {@code carrier} itself when the span has none. */
    public static Map<String, String> with(Map<String, String> carrier, Span span) {
        if (!span.getSpanContext().isValid()) {
            return carrier;
        }
        Map<String, String> out = new HashMap<>(carrier);
        out.remove(TRACEPARENT);
        out.remove(TRACESTATE);
        W3C.inject(Context.root().with(span), out, Map::put);
        return out;
    }

    /** The {@code traceparent} of {@code span}, or null when it has no valid context (no trace came in, none is recorded). */
    public static String traceparent(Span span) {
        SpanContext c = span.getSpanContext();
        return c.isValid() ? "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getTraceFlags().asHex() : null;
    }

    /**
     * OpenTelemetry for a process: the SDK configured by the {@code OTEL_*} variables (exporter, endpoint, sampler) when
     * {@code OTEL_EXPORTER_OTLP_ENDPOINT}, {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} or {@code OTEL_TRACES_EXPORTER} is set,
     * named {@code wharf-<role>} unless {@code OTEL_SERVICE_NAME} says otherwise; else nothing is recorded (trace context
     * coming in still goes on). Close what this returns with {@link #close}.
     */
    public static OpenTelemetry fromEnvironment(String role, Map<String, String> env) {
        boolean configured = env.containsKey("OTEL_EXPORTER_OTLP_ENDPOINT") || env.containsKey("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                || (env.containsKey("OTEL_TRACES_EXPORTER") && !"none".equals(env.get("OTEL_TRACES_EXPORTER")));
        if (!configured) {
            return OpenTelemetry.noop();
        }
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> Map.of("otel.service.name", env.getOrDefault("OTEL_SERVICE_NAME", "wharf-" + role),
                        "otel.metrics.exporter", "none", "otel.logs.exporter", "none")) // meters go to Prometheus, logs to the log
                .build().getOpenTelemetrySdk();
        log.info("Traces are exported with OTLP to {}", env.getOrDefault("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT",
                "the exporter's default endpoint")));
        return sdk;
    }

    /** Flushes and stops what {@link #fromEnvironment} made (nothing for the no-op). */
    public static void close(OpenTelemetry openTelemetry) {
        if (openTelemetry instanceof OpenTelemetrySdk sdk) {
            sdk.close();
        }
    }
}
