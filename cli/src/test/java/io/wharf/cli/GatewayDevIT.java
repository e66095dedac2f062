package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
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
        assertThat(job.get("timings").get("exitedAt").asText()).as("its container's lifetime").isNotEmpty();
        assertThat(wharf("job", id)).contains("SUCCEEDED").containsPattern("timings +queued \\d+ ms, .*run \\d+ ms, result \\d+ ms");
        JsonNode jobs = JSON.readTree(wharf("jobs", "--function", function, "--output", "json")).get("jobs");
        assertThat(jobs).extracting(j -> j.get("jobId").asText()).contains(id);
        assertThat(wharf("logs", id)).contains(" echo queued");
        assertThat(wharf("logs", id, "--output", "json")).contains("\"stream\":\"stderr\"").contains("to stderr");
    }

    @Test
    void logsFollowPrintsARunningJobsLinesAndReturnsOnceItEnds() throws Exception {
        String slow = "dev-slow-" + UUID.randomUUID().toString().substring(0, 6);
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName(slow).setImage(LocalImages.BUSYBOX).setTimeoutMillis(20_000)
                    .setCommand(List.of("sh", "-c", "echo first line; sleep 2; echo last line")).build());
        }
        String id = wharf("invoke", slow, "--data", "x", "--async").strip();
        String followed = wharf("logs", id, "--follow");
        assertThat(followed).contains("first line").contains("last line");
        assertThat(JSON.readTree(wharf("job", id, "--output", "json")).get("final").asBoolean()).as("the job ended before --follow returned").isTrue();
    }

    @Test
    void invokeSendsWhatIsPipedToItsStandardInput() throws Exception {
        // A process of its own: whether standard input is a pipe is a property of the process, as for a user's shell.
        Process invoke = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Wharf.class.getName(), "invoke", function,
                "--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (var stdin = invoke.getOutputStream()) {
            stdin.write("from a pipe".getBytes(StandardCharsets.UTF_8));
        }
        if (!invoke.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            invoke.destroyForcibly();
            throw new AssertionError("wharf invoke did not return within 60 s");
        }
        String printed = new String(invoke.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(invoke.exitValue()).as(printed).isZero();
        assertThat(printed).contains(" echo from a pipe");
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

    /** Debian's rsyslogd on a loopback port, writing what it receives (RFC 5424, structured data kept) to {@code out}. */
    private static Process rsyslog(java.nio.file.Path dir, int port, java.nio.file.Path out) throws Exception {
        java.nio.file.Path conf = java.nio.file.Files.writeString(dir.resolve("rsyslog.conf"), "global(workDirectory=\"" + dir + "\")\n"
                + "module(load=\"imtcp\")\n"
                + "input(type=\"imtcp\" port=\"" + port + "\" address=\"127.0.0.1\")\n"
                + "*.* action(type=\"omfile\" file=\"" + out + "\" template=\"RSYSLOG_SyslogProtocol23Format\")\n");
        return new ProcessBuilder("rsyslogd", "-n", "-f", conf.toString(), "-i", dir.resolve("rsyslogd.pid").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("rsyslogd.log").toFile()).start();
    }

    /** Runs `wharf ship-logs` against the dev cluster on a thread of its own until {@code stop}. */
    private static Thread ship(String syslog, ShipLogsCommand command) {
        Thread thread = new Thread(() -> new picocli.CommandLine(command).execute("--syslog", syslog, "--group", "syslog-it", "--from-beginning",
                "--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry()), "ship-logs");
        thread.start();
        return thread;
    }

    @Test
    void shipLogsSendsAJobsLinesToARealRsyslogWithItsJobIdAsStructuredDataAndGoesOnWhereItStopped() throws Exception {
        assertThat(Wharf.commandLine().execute("ship-logs", "--syslog", "udp://127.0.0.1:514")).as("UDP would lose lines").isEqualTo(2);
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("wharf-syslog-it-");
        java.nio.file.Path out = dir.resolve("received.log");
        int port = io.wharf.embedded.Ports.free();
        Process rsyslogd = rsyslog(dir, port, out);
        ShipLogsCommand first = new ShipLogsCommand();
        ShipLogsCommand second = new ShipLogsCommand();
        try {
            Thread shipping = ship("tcp://127.0.0.1:" + port, first);
            String id = wharf("invoke", function, "--data", "to syslog", "--async").strip();
            List<String> lines = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> java.nio.file.Files.readAllLines(out).stream()
                    .filter(l -> l.contains("job=\"" + id + "\"")).toList(), l -> l.size() >= 2);
            assertThat(lines).anySatisfy(l -> assertThat(l).contains(" wharf " + id + " STDOUT [wharf@32473 job=\"" + id + "\" function=\""
                    + function + "\" attempt=\"1\" stream=\"stdout\" sequence=\"").endsWith("echo to syslog"));
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("<12>1 ").contains(" STDERR ").endsWith("to stderr"));
            first.stop.set(true);
            shipping.join(30_000);

            // Stopped, a job's lines wait in wharf.logs; the same group started again sends them, and nothing twice.
            String later = wharf("invoke", function, "--data", "while stopped", "--async").strip();
            await().atMost(Duration.ofSeconds(60)).until(() -> JSON.readTree(wharf("job", later, "--output", "json")).get("final").asBoolean());
            Thread again = ship("tcp://127.0.0.1:" + port, second);
            await().atMost(Duration.ofSeconds(30)).until(() -> java.nio.file.Files.readString(out).contains("job=\"" + later + "\""));
            second.stop.set(true);
            again.join(30_000);
            assertThat(java.nio.file.Files.readAllLines(out).stream().filter(l -> l.contains("job=\"" + id + "\""))).as("sent once").hasSize(lines.size());
        } finally {
            // A failed assertion must not leave a shipper polling a broker the next test class no longer has.
            first.stop.set(true);
            second.stop.set(true);
            rsyslogd.destroy();
            rsyslogd.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            io.wharf.embedded.TempDirs.delete(dir);
        }
    }
}
