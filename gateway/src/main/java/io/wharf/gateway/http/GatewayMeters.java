package io.wharf.gateway.http;

import java.time.Duration;

import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** Every meter a gateway records, named here and nowhere else (docs/metrics.md lists them). */
public final class GatewayMeters {
    /** Requests served, by method, route (its template: {@code /function/{name}}) and status; their time to the answer. */
    public static final String REQUESTS = "wharf.gateway.requests";
    private static final String STARTED = "wharf.started";

    private final MeterRegistry registry;
    /** Timers by method, route and status: a request looks its timer up in one map instead of building its id. */
    private final java.util.Map<String, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();

    public GatewayMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    void started(Context ctx) {
        ctx.attribute(STARTED, System.nanoTime());
    }

    /** After the answer is decided (an error's too): the route matched, none for a path nothing serves. */
    void answered(Context ctx) {
        Long started = ctx.attribute(STARTED);
        Endpoint endpoint = ctx.endpoints().lastHttpEndpoint();
        String route = endpoint == null ? "none" : endpoint.path.replace('<', '{').replace('>', '}');
        String method = ctx.method().name();
        String status = Integer.toString(ctx.statusCode());
        timers.computeIfAbsent(method + ' ' + route + ' ' + status, k -> Timer.builder(REQUESTS).description("Requests served by the gateway")
                        .tags("method", method, "route", route, "status", status).publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(5)).register(registry))
                .record(Duration.ofNanos(started == null ? 0 : System.nanoTime() - started));
    }
}
