package io.wharf.gateway.http;

import java.util.HashMap;
import java.util.Map;

import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.wharf.ops.Traces;

/**
 * A server span per request, child of the caller's {@code traceparent} when it sends one; the events a request sends
 * carry its context ({@link #carrier}), so the dispatcher's, the worker's and the container's spans join its trace.
 */
public final class GatewayTraces {
    private static final String SPAN = "wharf.span";
    private final Tracer tracer;

    public GatewayTraces(Tracer tracer) {
        this.tracer = tracer;
    }

    void started(Context ctx) {
        Map<String, String> incoming = new HashMap<>(2);
        for (String name : new String[] {Traces.TRACEPARENT, Traces.TRACESTATE}) {
            String value = ctx.header(name);
            if (value != null) {
                incoming.put(name, value);
            }
        }
        ctx.attribute(SPAN, tracer.spanBuilder(ctx.method().name()).setSpanKind(SpanKind.SERVER).setParent(Traces.extract(incoming))
                .setAttribute("http.request.method", ctx.method().name()).setAttribute("url.path", ctx.path()).startSpan());
    }

    void answered(Context ctx) {
        Span span = ctx.attribute(SPAN);
        if (span == null) {
            return;
        }
        Endpoint endpoint = ctx.endpoints().lastHttpEndpoint();
        String route = endpoint == null ? null : endpoint.path.replace('<', '{').replace('>', '}');
        if (route != null) {
            span.updateName(ctx.method().name() + " " + route);
            span.setAttribute("http.route", route);
        }
        span.setAttribute("http.response.status_code", ctx.statusCode());
        if (ctx.statusCode() >= 500) {
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
    }

    /** The trace context an event sent for this request carries (empty when there is none). */
    static Map<String, String> carrier(Context ctx) {
        Span span = ctx.attribute(SPAN);
        return span == null ? Map.of() : Traces.with(Map.of(), span);
    }
}
