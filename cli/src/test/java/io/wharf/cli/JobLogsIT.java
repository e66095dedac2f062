package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.dispatcher.DispatcherMain;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.Ports;
import io.wharf.embedded.TempDirs;
import io.wharf.gateway.GatewayConfig;
import io.wharf.gateway.GatewayMain;
import io.wharf.records.FunctionSpec;
import io.wharf.testkit.SharedServices;
import io.wharf.topics.Topics;
import io.wharf.worker.WorkerConfig;
import io.wharf.worker.WorkerMain;

/**
 * The roles run as processes with the shipped log configuration: every line a role writes about a job names its job,
 * function and tenant, in the JSON format for log collectors (dispatcher, worker) and in the text one (gateway).
 */
class JobLogsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The log configuration the CLI jar ships (tests otherwise read their own logback-test.xml). */
    private static final Path SHIPPED = Path.of("src", "main", "resources", "logback.xml").toAbsolutePath();

    private static Process start(Class<?> main, Path log, String format, Map<String, Object> settings) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-Dlogback.configurationFile=" + SHIPPED, "-cp", System.getProperty("java.class.path"), main.getName()));
        settings.forEach((k, v) -> command.add(k + "=" + v));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("WHARF_LOG_FORMAT", format);
        builder.environment().put("WHARF_LOG_LEVEL", "DEBUG");
        return builder.start();
    }

    @Test
    void everyLineAboutAJobNamesItsJobFunctionAndTenant() throws Exception {
        String bootstrap = SharedServices.kafka().bootstrapServers();
        String registry = SharedServices.registry().confluentUrl();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Topics.ensure(admin, Topics.core(4, (short) 1, List.of(Topics.DEFAULT_POOL)));
        }
        String run = UUID.randomUUID().toString().substring(0, 6);
        String function = "logged-" + run;
        Path dir = Files.createTempDirectory("wharf-logs-it-");
        List<Process> roles = new ArrayList<>();
        int port = Ports.free();
        try (WharfClient client = new WharfClient(new Endpoints(bootstrap, registry))) {
            client.deploy(FunctionSpec.newBuilder().setName(function).setImage(LocalImages.BUSYBOX).setCommand(List.of("cat")).setMemoryMb(32).build());
            String key = client.issueApiKey("default", true, "logs-it").key();
            roles.add(start(DispatcherMain.class, dir.resolve("dispatcher.log"), "json", Map.of(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    DispatcherConfig.REGISTRY_URL_CONFIG, registry, DispatcherConfig.STATE_DIR_CONFIG, dir.resolve("state"),
                    DispatcherConfig.APPLICATION_ID_CONFIG, "logs-it-" + run, DispatcherConfig.MANAGEMENT_PORT_CONFIG, 0)));
            roles.add(start(WorkerMain.class, dir.resolve("worker.log"), "json", Map.of(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    WorkerConfig.REGISTRY_URL_CONFIG, registry, WorkerConfig.ID_CONFIG, "logs-it-" + run, WorkerConfig.MANAGEMENT_PORT_CONFIG, 0)));
            roles.add(start(GatewayMain.class, dir.resolve("gateway.log"), "text", Map.of(GatewayConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    GatewayConfig.REGISTRY_URL_CONFIG, registry, GatewayConfig.PORT_CONFIG, port)));

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> response = await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .until(() -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/function/" + function))
                            .header("Authorization", "Bearer " + key).POST(HttpRequest.BodyPublishers.ofString("hello")).build(),
                            HttpResponse.BodyHandlers.ofString()), r -> r.statusCode() == 200);
            String jobId = response.headers().firstValue("X-Call-Id").orElseThrow();
            for (Process role : roles) {
                role.destroy();
                assertThat(role.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }

            for (String role : List.of("dispatcher", "worker")) {
                List<JsonNode> aboutJob = new ArrayList<>();
                for (String line : Files.readAllLines(dir.resolve(role + ".log"))) {
                    if (line.startsWith("{") && line.contains(jobId)) {
                        aboutJob.add(JSON.readTree(line));
                    }
                }
                assertThat(aboutJob).as(role + "'s JSON lines about job " + jobId).isNotEmpty();
                for (JsonNode line : aboutJob) {
                    assertThat(line.at("/mdc/job").asText()).as(role + ": " + line).isEqualTo(jobId);
                    assertThat(line.at("/mdc/function").asText()).as(role + ": " + line).isEqualTo(function);
                    assertThat(line.at("/mdc/tenant").asText()).as(role + ": " + line).isEqualTo("default");
                    assertThat(line.get("level").asText()).isNotBlank();
                }
            }
            List<String> gatewayLines = Files.readAllLines(dir.resolve("gateway.log")).stream().filter(l -> l.contains(jobId)).toList();
            assertThat(gatewayLines).as("the gateway's text lines about the job").isNotEmpty()
                    .allMatch(l -> l.contains(" job=" + jobId + " function=" + function + " tenant=default - "));
        } finally {
            roles.forEach(Process::destroyForcibly);
            TempDirs.delete(dir);
        }
    }
}
