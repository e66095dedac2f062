package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.embedded.LocalImages;
import io.wharf.gateway.http.ResultResponses;
import io.wharf.records.Event;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.worker.runtime.Labels;
import io.wharf.worker.runtime.WorkerMeters;

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

    /** The containers the engine created for {@code function} since {@code since} (epoch seconds), from its event stream. */
    private List<String> createdSince(String function, long since) throws InterruptedException {
        List<String> created = new java.util.concurrent.CopyOnWriteArrayList<>();
        stack.docker.eventsCmd().withSince(String.valueOf(since)).withUntil(String.valueOf(System.currentTimeMillis() / 1000 + 1))
                .withEventFilter("create").withLabelFilter(Map.of(Labels.FUNCTION, function))
                .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Event>() {
                    @Override
                    public void onNext(com.github.dockerjava.api.model.Event event) {
                        created.add(event.getId());
                    }
                }).awaitCompletion(30, java.util.concurrent.TimeUnit.SECONDS);
        return created;
    }

    private double stopsMeasured(String function) {
        io.micrometer.core.instrument.Timer stops = stack.workerMeters.find(WorkerMeters.CONTAINER).tags("function", function, "phase", "teardown").timer();
        return stops == null ? 0 : stops.count();
    }

    @Test
    void aPageAndACgiScriptAreServedByAContainerPerRequestOnNetworkNone() throws Exception {
        long since = System.currentTimeMillis() / 1000 - 1;
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
        assertThat(createdSince(web, since)).as("a container for each of the three requests").hasSize(3);
        // The lifetime split: start, ready and serve in the result; the stop, after the answer, measured when it ended.
        JsonNode timings = job.get("timings");
        List<Instant> split = Stream.of("createdAt", "startedAt", "readyAt", "exitedAt", "finishedAt").map(t -> Instant.parse(timings.get(t).asText())).toList();
        assertThat(split).as("created, started, ready, served, answered").isSorted();
        await().atMost(Duration.ofSeconds(10)).until(() -> stopsMeasured(web) == 3);
    }

    @Test
    void aJobFromKafkaReachesTheServerAsAPostOfItsPayloadToSlash() throws Exception {
        // A server whose root is a CGI script (busybox httpd runs cgi-bin/index.cgi for a directory without an index page).
        String script = """
                #!/bin/sh
                echo "Content-Type: text/plain"
                echo ""
                echo "$REQUEST_METHOD $REQUEST_URI $CONTENT_TYPE"
                head -c "${CONTENT_LENGTH:-0}"
                """;
        String image = LocalImages.ensure(stack.docker, "wharf-local/httpd-root-cgi:1", Map.of("app/cgi-bin/index.cgi", script.getBytes(StandardCharsets.UTF_8)),
                List.of("/bin/httpd", "-f", "-p", String.valueOf(LocalImages.HTTPD_PORT), "-h", "/app"));
        String app = stack.deploy("kafka-web", "web", f -> f.setImage(image).setCommand(List.of()).setHttpPort(LocalImages.HTTPD_PORT));
        Event event = stack.client.event(app, "{\"order\": 42}".getBytes(StandardCharsets.UTF_8), "application/json");
        event.setTenant("web");
        JobResult result = stack.client.invoke(event, Duration.ofSeconds(60));
        assertThat(result.getStatus()).as(result.getError()).isEqualTo(JobStatus.SUCCEEDED);
        // The result holds the whole response in CGI form, so a consumer of wharf.results sees its status and headers too.
        assertThat(new String(ResultResponses.bytes(result.getBody()), StandardCharsets.UTF_8).replace("\r\n", "\n"))
                .isEqualTo("Status: 200 OK\nContent-Type: text/plain\n\nPOST / application/json\n{\"order\": 42}");
    }

    @Test
    void aHotServerIsKeptForTheNextRequests() throws Exception {
        String warm = stack.deploy("warm-web", "web", f -> f.setImage(LocalImages.HTTPD).setCommand(List.of()).setHttpPort(LocalImages.HTTPD_PORT)
                .setHot(HotSettings.newBuilder().setIdleTtlMillis(2_000).build()));
        for (int i = 0; i < 3; i++) {
            assertThat(stack.call("GET", "/function/" + warm + "/index.html", key, null).statusCode()).isEqualTo(200);
        }
        assertThat(containersOf(warm)).as("one warm server for three requests").hasSize(1);
        assertThat(stack.docker.inspectContainerCmd(containersOf(warm).get(0)).exec().getHostConfig().getNetworkMode()).isEqualTo("none");
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
