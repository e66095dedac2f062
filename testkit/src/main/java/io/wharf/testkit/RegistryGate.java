package io.wharf.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * A schema registry behind TLS and authentication, as companies run theirs: an HTTPS front on 127.0.0.1 with the
 * test's certificate that passes a request to the real registry only with the right HTTP basic credentials or
 * bearer token, and answers 401 otherwise.
 */
public final class RegistryGate implements AutoCloseable {
    private final HttpsServer server;
    private final String upstream;
    private final String path;
    private final Set<String> accepted;
    private final HttpClient http = HttpClient.newHttpClient();
    private final AtomicInteger refused = new AtomicInteger();

    private RegistryGate(HttpsServer server, String upstreamUrl, Set<String> accepted) {
        URI upstream = URI.create(upstreamUrl);
        this.server = server;
        this.upstream = upstream.getScheme() + "://" + upstream.getAuthority();
        this.path = upstream.getPath();
        this.accepted = accepted;
    }

    /** In front of {@code upstreamUrl} (a registry's base URL), accepting {@code user:password} or {@code bearerToken}. */
    public static RegistryGate start(String upstreamUrl, TestTls tls, String userInfo, String bearerToken) {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(tls.keystore())) {
                store.load(in, tls.password().toCharArray());
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, tls.password().toCharArray());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.setHttpsConfigurator(new HttpsConfigurator(context));
            server.setExecutor(Executors.newFixedThreadPool(4));
            RegistryGate gate = new RegistryGate(server, upstreamUrl, Set.of(
                    "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8)), "Bearer " + bearerToken));
            server.createContext("/", gate::handle);
            server.start();
            return gate;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("Could not start the registry gate: " + e.getMessage(), e);
        }
    }

    /** The registry's base URL through the gate: https, the upstream's path. */
    public String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** Requests answered 401 so far. */
    public int refused() {
        return refused.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization == null || !accepted.contains(authorization)) {
                refused.incrementAndGet();
                byte[] body = "{\"error_code\":401,\"message\":\"Unauthorized\"}".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"registry\"");
                exchange.sendResponseHeaders(401, body.length);
                exchange.getResponseBody().write(body);
                return;
            }
            byte[] requestBody = exchange.getRequestBody().readAllBytes();
            HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(upstream + exchange.getRequestURI()))
                    .method(exchange.getRequestMethod(), requestBody.length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(requestBody));
            for (String header : new String[] {"Content-Type", "Accept"}) {
                String value = exchange.getRequestHeaders().getFirst(header);
                if (value != null) {
                    forward.header(header, value);
                }
            }
            HttpResponse<byte[]> response = http.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
            response.headers().firstValue("Content-Type").ifPresent(type -> exchange.getResponseHeaders().add("Content-Type", type));
            exchange.sendResponseHeaders(response.statusCode(), response.body().length == 0 ? -1 : response.body().length);
            exchange.getResponseBody().write(response.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        http.close();
    }
}
