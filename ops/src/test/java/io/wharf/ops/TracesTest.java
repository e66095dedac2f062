package io.wharf.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;

class TracesTest {
    private static final String PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void aChildSpanCarriesItsTraceOnToTheNextHopAndAMalformedParentIsIgnored() {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        try (SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build()) {
            Span child = provider.get("test").spanBuilder("hop").setParent(Traces.extract(Map.of("traceparent", PARENT, "other", "kept"))).startSpan();
            Map<String, String> next = Traces.with(Map.of("other", "kept", "traceparent", "stale"), child);
            assertThat(next).containsEntry("other", "kept");
            assertThat(next.get("traceparent")).startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-").isEqualTo(Traces.traceparent(child))
                    .doesNotContain("00f067aa0ba902b7");
            child.end();
            assertThat(spans.getFinishedSpanItems().getFirst().getParentSpanId()).isEqualTo("00f067aa0ba902b7");

            Span orphan = provider.get("test").spanBuilder("hop").setParent(Traces.extract(Map.of("traceparent", "not-a-trace"))).startSpan();
            assertThat(orphan.getSpanContext().getTraceId()).as("a new trace").isNotEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
            orphan.end();
        }
    }

    @Test
    void withTracingOffTheCallersContextStillGoesOnAndNothingIsMadeUp() {
        OpenTelemetry off = Traces.fromEnvironment("worker", Map.of());
        Span passing = off.getTracer("t").spanBuilder("hop").setParent(Traces.extract(Map.of("traceparent", PARENT))).startSpan();
        assertThat(Traces.traceparent(passing)).isEqualTo(PARENT);
        Span none = off.getTracer("t").spanBuilder("hop").startSpan();
        assertThat(Traces.traceparent(none)).isNull();
        assertThat(Traces.with(Map.of("a", "b"), none)).isEqualTo(Map.of("a", "b"));
    }
}
