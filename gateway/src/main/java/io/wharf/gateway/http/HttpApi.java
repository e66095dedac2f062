package io.wharf.gateway.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.wharf.ops.JobLogs;
import io.wharf.ops.ManagementServer;
import io.wharf.ops.Metrics;
import io.wharf.ops.Role;

/**
 * The gateway's HTTP surface: every route, who may use it, and how errors read. Routes are registered through
 * {@link #route} so that {@link #routes()} lists exactly what is served (a test holds {@code /openapi.json} to it).
 * Every route but {@code /healthz}, {@code /readyz}, {@code /openapi.json} and {@code /hooks/*} needs an API key
 * ({@code /metrics} an admin's).
 */
public final class HttpApi {
    /** A served route: its method and its path, path parameters in OpenAPI's braces. */
    public record Route(String method, String path) {
    }

    /** What the routes call. */
    public record Parts(Callers callers, Invocations invocations, JobRoutes jobs, FunctionRoutes functions, AdminRoutes admin,
                        TriggerRoutes triggers, Webhooks hooks, Supplier<List<Role.Check>> readiness, Metrics metrics, GatewayTraces traces) {
    }

    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    private final List<Route> routes = new ArrayList<>();
    private final Javalin app;

    public HttpApi(Parts parts, String host, int port, long maxRequestSize) {
        byte[] openApi = openApi();
        this.app = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.concurrency.useVirtualThreads = true; // a call waiting for its job holds a virtual thread only
            javalin.jetty.host = host;
            javalin.jetty.port = port;
            javalin.http.maxRequestSize = maxRequestSize;
            // The dashboard: a page and its script, served from the jar (its data comes from the API, with the reader's key),
            // and its chart library from the uPlot webjar.
            javalin.staticFiles.add(files -> {
                files.hostedPath = "/dashboard";
                files.directory = "/dashboard";
                files.location = io.javalin.http.staticfiles.Location.CLASSPATH;
            });
            javalin.staticFiles.enableWebjars();
            javalin.routes.exception(ApiError.class, HttpApi::write);
            javalin.routes.exception(Exception.class, (e, ctx) -> {
                ApiError error = ApiError.failure(e);
                if (error.status() == 500) {
                    log.error("{} {} failed", ctx.method(), ctx.path(), e);
                } else {
                    log.warn("{} {}: {}", ctx.method(), ctx.path(), error.getMessage());
                }
                write(error, ctx);
            });
            javalin.routes.error(404, "*", ctx -> {
                if (ctx.result() == null) {
                    ctx.json(Map.of("error", "not_found", "message", "No route " + ctx.method() + " " + ctx.path() + " (GET /openapi.json lists them)"));
                }
            });
            javalin.routes.error(405, "*", ctx -> ctx.json(Map.of("error", "method_not_allowed", "message", ctx.method() + " is not served on " + ctx.path())));
            GatewayMeters meters = new GatewayMeters(parts.metrics().registry());
            javalin.routes.before(meters::started);
            javalin.routes.before(parts.traces()::started);
            javalin.routes.after(meters::answered);
            javalin.routes.after(parts.traces()::answered);
            javalin.routes.after(ctx -> {
                JobLogs.Scope logs = ctx.attribute(Invocations.LOGS);
                if (logs != null) {
                    logs.close();
                }
            });
            route(javalin, HandlerType.GET, "/healthz", ctx -> ctx.json(Map.of("status", "ok")));
            route(javalin, HandlerType.GET, "/readyz", ctx -> {
                Map<String, Object> body = ManagementServer.readinessBody(parts.readiness().get());
                ctx.status(Boolean.TRUE.equals(body.get("ready")) ? 200 : 503).json(body);
            });
            // Behind an admin key: the meters name every function and tenant (Prometheus sends it as a bearer token).
            javalin.routes.before("/metrics", parts.callers()::authenticate);
            route(javalin, HandlerType.GET, "/metrics", ctx -> {
                Callers.of(ctx).requireAdmin("Reading the metrics");
                String type = Metrics.contentType(ctx.header("Accept"));
                ctx.contentType(type).result(parts.metrics().scrape(type));
            });
            route(javalin, HandlerType.GET, "/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));
            for (String authenticated : List.of("/function/*", "/async-function/*", "/v1/*")) {
                javalin.routes.before(authenticated, parts.callers()::authenticate);
            }
            for (HandlerType type : Invocations.METHODS) {
                route(javalin, type, "/function/{name}", parts.invocations()::sync);
                route(javalin, type, "/function/{name}/<path>", parts.invocations()::sync);
                route(javalin, type, "/async-function/{name}", parts.invocations()::async);
                route(javalin, type, "/async-function/{name}/<path>", parts.invocations()::async);
            }
            route(javalin, HandlerType.POST, "/hooks/{name}", parts.hooks()::receive);
            JobRoutes jobs = parts.jobs();
            route(javalin, HandlerType.GET, "/v1/jobs", jobs::list);
            route(javalin, HandlerType.GET, "/v1/jobs/stream", jobs::stream);
            route(javalin, HandlerType.GET, "/v1/stats", jobs::stats);
            route(javalin, HandlerType.GET, "/v1/jobs/{id}", jobs::get);
            route(javalin, HandlerType.DELETE, "/v1/jobs/{id}", jobs::cancel);
            route(javalin, HandlerType.GET, "/v1/jobs/{id}/result", jobs::result);
            route(javalin, HandlerType.GET, "/v1/jobs/{id}/logs", jobs::logs);
            FunctionRoutes functions = parts.functions();
            route(javalin, HandlerType.GET, "/v1/functions", functions::list);
            route(javalin, HandlerType.GET, "/v1/functions/{name}", functions::get);
            route(javalin, HandlerType.PUT, "/v1/functions/{name}", functions::put);
            route(javalin, HandlerType.DELETE, "/v1/functions/{name}", functions::delete);
            route(javalin, HandlerType.GET, "/v1/schedules", functions::schedules);
            route(javalin, HandlerType.PUT, "/v1/schedules/{id}", functions::putSchedule);
            route(javalin, HandlerType.DELETE, "/v1/schedules/{id}", functions::deleteSchedule);
            AdminRoutes admin = parts.admin();
            route(javalin, HandlerType.GET, "/v1/tenants", admin::tenants);
            route(javalin, HandlerType.PUT, "/v1/tenants/{name}", admin::putTenant);
            route(javalin, HandlerType.DELETE, "/v1/tenants/{name}", admin::deleteTenant);
            route(javalin, HandlerType.GET, "/v1/dlq", admin::deadLetters);
            route(javalin, HandlerType.POST, "/v1/dlq/{id}/replay", admin::replay);
            TriggerRoutes triggers = parts.triggers();
            route(javalin, HandlerType.GET, "/v1/triggers", triggers::list);
            route(javalin, HandlerType.POST, "/v1/triggers", triggers::create);
            route(javalin, HandlerType.GET, "/v1/triggers/{name}", triggers::get);
            route(javalin, HandlerType.DELETE, "/v1/triggers/{name}", triggers::delete);
            route(javalin, HandlerType.POST, "/v1/triggers/{name}/pause", triggers::pause);
            route(javalin, HandlerType.POST, "/v1/triggers/{name}/resume", triggers::resume);
        });
    }

    private void route(JavalinConfig javalin, HandlerType type, String path, Handler handler) {
        javalin.routes.addHttpHandler(type, path, handler);
        routes.add(new Route(type.name().toLowerCase(Locale.ROOT), path.replace('<', '{').replace('>', '}')));
    }

    public HttpApi start() {
        app.start();
        return this;
    }

    public int port() {
        return app.port();
    }

    public void stop() {
        app.stop();
    }

    /** Every route served. */
    public List<Route> routes() {
        return List.copyOf(routes);
    }

    private static void write(ApiError error, Context ctx) {
        error.headers().forEach(ctx::header);
        ctx.status(error.status()).json(error.body());
    }

    private static byte[] openApi() {
        try (InputStream in = HttpApi.class.getResourceAsStream("/openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is missing from the gateway's jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
