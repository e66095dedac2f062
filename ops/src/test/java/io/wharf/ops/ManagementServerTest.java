package io.wharf.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;


class ManagementServerTest {
    private final HttpClient http = HttpClient.newHttpClient();

    /** A role whose state and checks the test sets. */
    private static final class Probe implements Role {
        volatile State state = State.STARTING;
        volatile List<Check> checks = List.of(new Check("broker", false, "not connected yet"));

        @Override
        public Role start() {
            return this;
        }

        @Override
        public State state() {
            return state;
        }

        @Override
        public List<Check> readiness() {
            return checks;
        }

        @Override
        public boolean awaitStop(Duration timeout) {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private HttpResponse<String> get(int port, String path, String accept) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (accept != null) {
            request.header("Accept", accept);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesMetricsInEitherFormatHealthAndReadinessWithWhatIsMissing() throws Exception {
        Probe role = new Probe();
        try (Metrics metrics = new Metrics(); ManagementServer server = new ManagementServer("127.0.0.1", 0, metrics, role).start()) {
            metrics.registry().counter("wharf.test.things", "kind", "a").increment(3);

            HttpResponse<String> text = get(server.port(), "/metrics", null);
            assertThat(text.statusCode()).isEqualTo(200);
            assertThat(text.headers().firstValue("Content-Type")).hasValue(Metrics.TEXT);
            assertThat(text.body()).contains("wharf_test_things_total{kind=\"a\"} 3.0").contains("jvm_memory_used_bytes");
            HttpResponse<String> open = get(server.port(), "/metrics", "application/openmetrics-text; version=1.0.0");
            assertThat(open.headers().firstValue("Content-Type")).hasValue(Metrics.OPEN_METRICS);
            assertThat(open.body()).endsWith("# EOF\n");

            assertThat(get(server.port(), "/healthz", null).statusCode()).isEqualTo(200);
            HttpResponse<String> notReady = get(server.port(), "/readyz", null);
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("\"ready\":false").contains("\"name\":\"broker\"").contains("not connected yet");

            role.checks = List.of(new Role.Check("broker", true, "answered"));
            assertThat(get(server.port(), "/readyz", null).statusCode()).isEqualTo(200);
            role.state = Role.State.FAILED;
            assertThat(get(server.port(), "/healthz", null).statusCode()).as("a failed role is not alive: restart it").isEqualTo(503);
            HttpResponse<String> unknown = get(server.port(), "/nope", null);
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(unknown.body()).contains("/metrics, /healthz, /readyz");
        }
    }

    @Test
    void aTakenPortFailsNamingTheSetting() throws Exception {
        Probe role = new Probe();
        try (Metrics metrics = new Metrics(); ManagementServer first = new ManagementServer("127.0.0.1", 0, metrics, role).start()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Management("worker", "127.0.0.1", first.port()).serve(metrics, role))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("Address already in use")
                    .hasMessageContaining("wharf.worker.management.port");
        }
    }
}
