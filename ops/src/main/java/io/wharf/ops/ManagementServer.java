package io.wharf.ops;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;


/**
 * A role's small HTTP port for its operators: {@code /metrics} for Prometheus, {@code /healthz} (the process is alive:
 * restart it when not) and {@code /readyz} (every check of {@link Role#readiness()} holds: send it work only then).
 * The JDK's own server: three read-only routes need nothing more, and the dispatcher and worker carry no web stack.
 */
public final class ManagementServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;

    public ManagementServer(String host, int port, Metrics metrics, Role role) {
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot serve metrics and health on " + host + ":" + port + " (" + e.getMessage()
                    + "): choose another port, 0 for any free one, -1 for none", e);
        }
        server.setExecutor(Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("wharf-management").factory()));
        server.createContext("/", exchange -> {
            try (exchange) {
                answer(exchange, metrics, role);
            }
        });
    }

    public ManagementServer start() {
        server.start();
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void answer(HttpExchange exchange, Metrics metrics, Role role) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
            json(exchange, 405, Map.of("error", "method_not_allowed", "message", "Only GET is served here"));
            return;
        }
        switch (path) {
            case "/metrics" -> {
                String type = Metrics.contentType(exchange.getRequestHeaders().getFirst("Accept"));
                send(exchange, 200, type, metrics.scrape(type).getBytes(StandardCharsets.UTF_8));
            }
            case "/healthz" -> {
                boolean alive = !role.state().ended();
                json(exchange, alive ? 200 : 503, Map.of("status", alive ? "ok" : role.state().name().toLowerCase()));
            }
            case "/readyz" -> readiness(exchange, role.readiness());
            default -> json(exchange, 404, Map.of("error", "not_found", "message", "No route " + path + " (served: /metrics, /healthz, /readyz)"));
        }
    }

    /** 200 when every check holds, else 503; the body lists them all, so a probe's log says what is missing. */
    public static Map<String, Object> readinessBody(List<Role.Check> checks) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ready", checks.stream().allMatch(Role.Check::ok));
        body.put("checks", checks.stream().map(c -> Map.of("name", c.name(), "ok", c.ok(), "detail", c.detail())).toList());
        return body;
    }

    private static void readiness(HttpExchange exchange, List<Role.Check> checks) throws IOException {
        Map<String, Object> body = readinessBody(checks);
        json(exchange, Boolean.TRUE.equals(body.get("ready")) ? 200 : 503, body);
    }

    private static void json(HttpExchange exchange, int status, Object body) throws IOException {
        send(exchange, status, "application/json", JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
