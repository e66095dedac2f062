package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.client.WharfClient;
import io.wharf.embedded.LocalImages;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobStatus;
import io.wharf.testkit.Scrape;

/** What `wharf dev` shows on /metrics and /readyz after a run of mixed jobs, read as a user's scrape would. */
class MetricsIT {
    private static DevClusterFixture fixture;
    private static DevCluster cluster;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUN = UUID.randomUUID().toString().substring(0, 6);
    private static final String OK = "m-ok-" + RUN;
    private static final String FAILING = "m-fail-" + RUN;
    private static final String HOT = "m-hot-" + RUN;

    @BeforeAll
    static void start() {
        fixture = DevClusterFixture.start();
        cluster = fixture.cluster;
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName(OK).setImage(LocalImages.BUSYBOX).setCommand(List.of("cat")).setMemoryMb(32).build());
            client.deploy(FunctionSpec.newBuilder().setName(HOT).setImage(LocalImages.HOT_ECHO).setMemoryMb(32)
                    .setHot(HotSettings.newBuilder().setPrewarm(1).setMaxJobsPerContainer(1000).build()).build());
            client.deploy(FunctionSpec.newBuilder().setName(FAILING).setImage(LocalImages.BUSYBOX).setCommand(List.of("sh", "-c", "exit 3"))
                    .setMemoryMb(32).build());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
    }

    private static HttpResponse<String> get(String path, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(cluster.gatewayUrl() + path));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int call(String function, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(cluster.gatewayUrl() + "/function/" + function))
                .header("Authorization", "Bearer " + cluster.adminKey()).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void aScrapeAfterMixedJobsCountsWhatTheRunDid() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(call(OK, "ping " + i)).isEqualTo(200);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(call(FAILING, "x")).as("a job that exits 3 answers 502").isEqualTo(502);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(call(HOT, "warm " + i)).isEqualTo(200);
        }
        String nowhere = "m-none-" + RUN;
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            assertThat(client.invoke(client.event(nowhere, "x".getBytes(StandardCharsets.UTF_8), "text/plain"), Duration.ofSeconds(30))
                    .getStatus()).isEqualTo(JobStatus.REJECTED);
        }

        String scrape = await().atMost(Duration.ofSeconds(30)).until(() -> get("/metrics", cluster.adminKey()).body(),
                s -> Scrape.value(s, "wharf_worker_jobs_total", Map.of("function", FAILING)) == 3.0);
        assertThat(Scrape.value(scrape, "wharf_worker_jobs_total", Map.of("function", OK, "tenant", "default", "status", "SUCCEEDED"))).isEqualTo(5.0);
        assertThat(Scrape.value(scrape, "wharf_worker_jobs_total", Map.of("function", FAILING, "status", "FAILED"))).isEqualTo(3.0);
        assertThat(Scrape.value(scrape, "wharf_worker_jobs_total", Map.of("function", OK, "status", "FAILED"))).isNaN();
        assertThat(Scrape.value(scrape, "wharf_worker_container_seconds_count", Map.of("function", OK, "phase", "run"))).isEqualTo(5.0);
        // Each cold container's removal, measured once it ends: after the answer, so it may trail the results by a little.
        await().atMost(Duration.ofSeconds(30)).until(() -> Scrape.value(get("/metrics", cluster.adminKey()).body(), "wharf_worker_container_seconds_count",
                Map.of("function", OK, "phase", "teardown")) == 5.0);
        assertThat(Scrape.value(scrape, "wharf_worker_queue_wait_seconds_count", Map.of("function", OK))).isEqualTo(5.0);
        assertThat(Scrape.value(scrape, "wharf_worker_queue_wait_seconds_sum", Map.of("function", OK))).isPositive();
        assertThat(Scrape.value(scrape, "wharf_worker_jobs_in_flight", Map.of("function", OK))).isZero();
        assertThat(Scrape.value(scrape, "wharf_worker_lag_records", Map.of("pool", "default"))).as("every job taken").isZero();

        assertThat(Scrape.value(scrape, "wharf_worker_prestarted_taken_total", Map.of("function", OK))).as("each cold job asked").isEqualTo(5.0);
        assertThat(Scrape.value(scrape, "wharf_worker_prestarted_containers")).isNotNaN();
        assertThat(Scrape.value(scrape, "wharf_worker_image_cache_total", Map.of("outcome", "hit"))).as("busybox is present").isGreaterThanOrEqualTo(11.0);
        assertThat(Scrape.value(scrape, "wharf_worker_warm_acquired_total", Map.of("function", HOT))).isEqualTo(3.0);
        assertThat(Scrape.value(scrape, "wharf_worker_warm_containers", Map.of("function", HOT, "state", "busy"))).isZero();
        assertThat(Scrape.value(scrape, "wharf_worker_warm_containers", Map.of("function", HOT, "state", "idle"))).isGreaterThanOrEqualTo(1.0);
        assertThat(Scrape.value(scrape, "wharf_worker_usage_cpu_seconds_total", Map.of("function", OK, "tenant", "default"))).isPositive();
        assertThat(Scrape.value(scrape, "wharf_worker_usage_run_seconds_total", Map.of("function", OK, "tenant", "default"))).isPositive();
        assertThat(Scrape.value(scrape, "wharf_worker_usage_memory_peak_bytes_count", Map.of("function", OK))).isEqualTo(5.0);
        assertThat(Scrape.value(scrape, "wharf_worker_usage_memory_peak_bytes_max", Map.of("function", OK))).isPositive();
        assertThat(Scrape.value(scrape, "wharf_worker_usage_io_bytes_total", Map.of("function", OK, "direction", "read"))).isNotNaN();
        assertThat(Scrape.value(scrape, "wharf_dispatcher_states_total", Map.of("function", OK, "phase", "QUEUED"))).isEqualTo(5.0);
        assertThat(Scrape.value(scrape, "wharf_dispatcher_jobs_ended_total", Map.of("function", nowhere, "status", "REJECTED"))).isEqualTo(1.0);
        assertThat(Scrape.value(scrape, "wharf_dispatcher_dead_lettered_total", Map.of("function", nowhere, "status", "REJECTED"))).isEqualTo(1.0);

        assertThat(Scrape.value(scrape, "wharf_gateway_requests_seconds_count", Map.of("method", "POST", "route", "/function/{name}", "status", "200")))
                .as("5 cold and 3 warm calls").isEqualTo(8.0);
        assertThat(Scrape.value(scrape, "wharf_gateway_requests_seconds_count", Map.of("route", "/function/{name}", "status", "502"))).isEqualTo(3.0);

        assertThat(Scrape.value(scrape, "wharf_role_ready", Map.of("role", "worker"))).isEqualTo(1.0);
        assertThat(Scrape.value(scrape, "wharf_role_ready", Map.of("role", "dispatcher"))).isEqualTo(1.0);
        assertThat(Scrape.value(scrape, "jvm_memory_used_bytes")).as("the JVM's meters").isPositive();
        assertThat(Scrape.value(scrape, "kafka_consumer_fetch_manager_records_consumed_total")).as("the worker's Kafka clients").isPositive();
        assertThat(scrape).as("Kafka Streams' own meters").contains("kafka_stream_thread_");
    }

    /** Runs a program to its end; returns what it printed, failing the test unless it exits 0. */
    private static String run(Path dir, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(String.join(" ", command) + ":\n" + out).isZero();
        return out;
    }

    @Test
    void theShippedPrometheusConfigAndRulesPassPromtoolAndARealPrometheusQueriesTheJobCounters() throws Exception {
        Path dir = Files.createTempDirectory("wharf-prometheus-it-");
        Process prometheus = null;
        try {
            Path shipped = Path.of("..", "deploy", "prometheus");
            URI gateway = URI.create(cluster.gatewayUrl());
            // The shipped files as they are, but for where this run's gateway listens and a scrape every second.
            Files.writeString(dir.resolve("prometheus.yml"), Files.readString(shipped.resolve("prometheus.yml"))
                    .replace("127.0.0.1:8080", gateway.getHost() + ":" + gateway.getPort()).replace("scrape_interval: 15s", "scrape_interval: 1s"));
            Files.copy(shipped.resolve("wharf-alerts.yml"), dir.resolve("wharf-alerts.yml"));
            Files.copy(shipped.resolve("wharf-alerts.test.yml"), dir.resolve("wharf-alerts.test.yml"));
            Files.writeString(dir.resolve("wharf-admin-key"), cluster.adminKey() + "\n");
            assertThat(run(dir, "promtool", "check", "config", "prometheus.yml")).contains("SUCCESS: 4 rules found");
            assertThat(run(dir, "promtool", "test", "rules", "wharf-alerts.test.yml")).contains("SUCCESS");

            int port = io.wharf.embedded.Ports.free();
            prometheus = new ProcessBuilder("prometheus", "--config.file=prometheus.yml", "--storage.tsdb.path=data",
                    "--web.listen-address=127.0.0.1:" + port).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            String function = "m-prom-" + RUN;
            try (WharfClient client = new WharfClient(cluster.endpoints())) {
                client.deploy(FunctionSpec.newBuilder().setName(function).setImage(LocalImages.BUSYBOX).setCommand(List.of("cat")).setMemoryMb(32).build());
            }
            assertThat(call(function, "a")).isEqualTo(200);
            assertThat(call(function, "b")).isEqualTo(200);
            String query = "http://127.0.0.1:" + port + "/api/v1/query?query="
                    + java.net.URLEncoder.encode("sum(wharf_worker_jobs_total{function=\"" + function + "\",status=\"SUCCEEDED\"})", StandardCharsets.UTF_8);
            JsonNode answer = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(query)).build(), HttpResponse.BodyHandlers.ofString()).body()),
                            a -> a.at("/data/result/0/value/1").asText().equals("2"));
            assertThat(answer.at("/status").asText()).isEqualTo("success");
            JsonNode up = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
                    + java.net.URLEncoder.encode("up{job=\"wharf-gateway\"}", StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString()).body());
            assertThat(up.at("/data/result/0/value/1").asText()).as("the gateway scraped with the admin key file").isEqualTo("1");
            JsonNode rules = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/rules")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertThat(rules.at("/data/groups/0/rules").size()).as("the alert rules loaded").isEqualTo(4);

            // Every query of the shipped Grafana dashboard is valid PromQL and finds series after this run.
            JsonNode dashboard = JSON.readTree(Path.of("..", "deploy", "grafana", "wharf.json").toFile());
            // Rates need two samples of a series: asked until they have them.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                java.util.Set<String> found = new java.util.HashSet<>();
                for (JsonNode panel : dashboard.get("panels")) {
                    for (JsonNode target : panel.get("targets")) {
                        String expr = target.get("expr").asText().replace("$__rate_interval", "30s");
                        JsonNode result = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
                                + java.net.URLEncoder.encode(expr, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString()).body());
                        assertThat(result.at("/status").asText()).as(panel.get("title").asText() + ": " + expr + " -> " + result).isEqualTo("success");
                        if (!result.at("/data/result").isEmpty()) {
                            found.add(panel.get("title").asText());
                        }
                    }
                }
                assertThat(found).contains("Jobs per second by status", "Container lifetime by phase (p50, p99)", "Backlog by pool", "Roles ready",
                        "Gateway requests by status");
            });
        } finally {
            if (prometheus != null) {
                prometheus.destroy();
                prometheus.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            io.wharf.embedded.TempDirs.delete(dir);
        }
    }

    @Test
    void aCallAndItsJobSayWhatTheContainerUsed() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.gatewayUrl() + "/function/" + OK))
                .header("Authorization", "Bearer " + cluster.adminKey()).POST(HttpRequest.BodyPublishers.ofString("used")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Double.parseDouble(response.headers().firstValue("X-Wharf-Cpu-Seconds").orElseThrow())).isPositive();
        assertThat(Long.parseLong(response.headers().firstValue("X-Wharf-Peak-Memory-Bytes").orElseThrow())).isPositive();
        String id = response.headers().firstValue("X-Call-Id").orElseThrow();
        JsonNode job = await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(get("/v1/jobs/" + id, cluster.adminKey()).body()),
                j -> j.path("final").asBoolean());
        assertThat(job.at("/usage/cpuSeconds").asDouble()).isPositive();
        assertThat(job.at("/usage/peakMemoryBytes").asLong()).isPositive();
    }

    @Test
    void theMetricsNeedAnAdminKeyAndReadinessCoversEveryRoleOfTheProcess() throws Exception {
        assertThat(get("/metrics", null).statusCode()).isEqualTo(401);
        String tenantKey;
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            tenantKey = client.issueApiKey("acme", false, "metrics-it").key();
        }
        HttpResponse<String> tenant = get("/metrics", tenantKey);
        assertThat(tenant.statusCode()).isEqualTo(403);
        assertThat(tenant.body()).contains("Reading the metrics");

        HttpResponse<String> ready = await().atMost(Duration.ofSeconds(30)).until(() -> get("/readyz", null), r -> r.statusCode() == 200);
        assertThat(ready.body()).contains("\"ready\":true").contains("\"name\":\"dispatcher streams\"").contains("\"name\":\"worker assignment\"")
                .contains("\"name\":\"worker container engine\"").contains("\"name\":\"worker broker\"");
        assertThat(get("/healthz", null).statusCode()).isEqualTo(200);
    }
}
