package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.embedded.LocalImages;
import io.wharf.records.HotSettings;
import io.wharf.worker.runtime.Labels;

/**
 * An unchanged web-server image (busybox httpd with a page and a CGI script) deployed with an HTTP port: the gateway
 * forwards each request to a container of its own, with network none, and answers with the server's response.
 */
class HttpServerFunctionsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayStack stack;
    private static String key;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        LocalImages.httpd(stack.docker);
        key = stack.key("web", false);
    }

    private List<String> containersOf(String function) {
        return stack.docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.FUNCTION, function)).exec().stream()
                .map(c -> c.getId()).toList();
    }

    @Test
    void aPageAndACgiScriptAreServedByAContainerPerRequestOnNetworkNone() throws Exception {
        String web = stack.deploy("web", "web", f -> f.setImage(LocalImages.HTTPD).setCommand(List.of()).setHttpPort(LocalImages.HTTPD_PORT));
        HttpResponse<String> page = stack.call("GET", "/function/" + web + "/index.html", key, null);
        assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
        assertThat(page.body()).isEqualTo("<h1>Hello from an unchanged web server</h1>\n");
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");

        HttpResponse<String> script = stack.call(stack.gateway, "POST", "/function/" + web + "/cgi-bin/echo?x=1", key, "posted body", Map.of());
        assertThat(script.statusCode()).as(script.body()).isEqualTo(200);
        assertThat(script.body()).isEqualTo("POST x=1\nposted body");
        assertThat(script.headers().firstValue("X-Served-By")).hasValue("busybox-httpd");

        assertThat(stack.call("GET", "/function/" + web + "/missing.html", key, null).statusCode()).isEqualTo(404);

        JsonNode job = JSON.readTree(stack.call("GET", "/v1/jobs/" + page.headers().firstValue("X-Call-Id").orElseThrow(), key, null).body());
        assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
        await().atMost(Duration.ofSeconds(30)).until(() -> containersOf(web).isEmpty());
    }

    @Test
    void aHotServerIsKeptForTheNextRequests() throws Exception {
        String warm = stack.deploy("warm-web", "web", f -> f.setImage(LocalImages.HTTPD).setCommand(List.of()).setHttpPort(LocalImages.HTTPD_PORT)
                .setHot(HotSettings.newBuilder().setIdleTtlMillis(2_000).build()));
        for (int i = 0; i < 3; i++) {
            assertThat(stack.call("GET", "/function/" + warm + "/index.html", key, null).statusCode()).isEqualTo(200);
        }
        assertThat(containersOf(warm)).as("one warm server for three requests").hasSize(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> containersOf(warm).isEmpty());
    }

    @Test
    void aServerThatNeverListensFailsItsJobWithItsStderr() throws Exception {
        String broken = stack.deploy("broken-web", "web", f -> f.setImage(LocalImages.HTTPD).setCommand(List.of("sh", "-c", "echo no server here >&2; exit 4"))
                .setHttpPort(LocalImages.HTTPD_PORT));
        HttpResponse<String> response = stack.call("GET", "/function/" + broken + "/", key, null);
        assertThat(response.statusCode()).isEqualTo(502);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("reason").asText()).contains("before listening on port " + LocalImages.HTTPD_PORT);
        assertThat(body.get("stderrTail").asText()).contains("no server here");
    }
}
