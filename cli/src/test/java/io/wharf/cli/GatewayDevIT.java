package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.client.WharfClient;
import io.wharf.embedded.LocalImages;
import io.wharf.records.FunctionSpec;

/** The gateway inside `wharf dev`, and the CLI's job commands, against the embedded default. */
class GatewayDevIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static DevClusterFixture fixture;
    private static DevCluster cluster;
    private static String function;

    @BeforeAll
    static void start() {
        fixture = DevClusterFixture.start();
        cluster = fixture.cluster;
        function = "dev-echo-" + UUID.randomUUID().toString().substring(0, 6);
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName(function).setImage(LocalImages.BUSYBOX).setMemoryMb(64).setTimeoutMillis(20_000)
                    .setCommand(List.of("sh", "-c", "echo \"$WHARF_HTTP_METHOD echo $(cat)\"; echo 'to stderr' >&2")).build());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
    }

    /** Runs a wharf command against the dev cluster and returns what it printed; it must exit 0. */
    private static String wharf(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertThat(Wharf.commandLine().execute(all.toArray(String[]::new))).as(String.join(" ", args)).isZero();
        } finally {
            System.setOut(original);
        }
        // The dev cluster runs in this JVM and logs to the same standard output: its lines are not the command's.
        return out.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.matches("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} .*"))
                .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
    }

    @Test
    void theDevGatewayAnswersWithTheAdminKeyItMade() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(cluster.gatewayUrl() + "/function/" + function))
                .header("Authorization", "Bearer " + cluster.adminKey()).POST(HttpRequest.BodyPublishers.ofString("over http")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("POST echo over http\n");
        assertThat(cluster.gatewayUrl()).startsWith("http://127.0.0.1:");
    }

    @Test
    void aJobStartedWithAsyncIsFollowedWithJobJobsAndLogs() throws Exception {
        String id = wharf("invoke", function, "--data", "queued", "--async").strip();
        await().atMost(Duration.ofSeconds(60)).until(() -> JSON.readTree(wharf("job", id, "--output", "json")).get("final").asBoolean());
        JsonNode job = JSON.readTree(wharf("job", id, "--output", "json"));
        assertThat(job.get("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(job.get("function").asText()).isEqualTo(function);
        assertThat(wharf("job", id)).contains("SUCCEEDED");
        JsonNode jobs = JSON.readTree(wharf("jobs", "--function", function, "--output", "json")).get("jobs");
        assertThat(jobs).extracting(j -> j.get("jobId").asText()).contains(id);
        assertThat(wharf("logs", id)).contains(" echo queued");
        assertThat(wharf("logs", id, "--output", "json")).contains("\"stream\":\"stderr\"").contains("to stderr");
    }

    @Test
    void functionsAreListedDescribedAndDeletedWithSecretsHidden() throws Exception {
        String secretive = "dev-secret-" + UUID.randomUUID().toString().substring(0, 6);
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName(secretive).setImage(LocalImages.BUSYBOX).setCommand(List.of("cat"))
                    .setSecretEnv(java.util.Map.of("TOKEN", "sealed:v2:k:h:d")).build());
        }
        JsonNode listed = JSON.readTree(wharf("functions", "list", "--output", "json")).get("functions");
        assertThat(listed).extracting(f -> f.get("name").asText()).contains(function, secretive);
        JsonNode described = JSON.readTree(wharf("functions", "describe", secretive, "--output", "json"));
        assertThat(described.get("secretEnv").get("TOKEN").asText()).isEqualTo("(sealed)");
        assertThat(wharf("functions", "delete", secretive)).contains("Deleted " + secretive);
        await().atMost(Duration.ofSeconds(10)).until(() -> !wharf("functions").contains(secretive));
    }
}
