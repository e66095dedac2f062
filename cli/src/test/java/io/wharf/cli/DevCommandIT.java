package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.DockerClient;

import io.wharf.client.Endpoints;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.runtime.Labels;

/**
 * {@code wharf dev} as a user runs it, a process of its own: it prints an admin key and writes it, with the gateway's
 * URL, to its endpoints file, which other {@code wharf} commands and HTTP clients use without flags; stopped, it
 * removes the file and leaves no container behind. The file goes where {@code WHARF_STATE_FILE} says, not to the
 * home of whoever runs the tests.
 */
class DevCommandIT {
    private static final Pattern PRINTED_KEY = Pattern.compile("Admin API key\\s+(\\S+)");
    private static final Pattern PRINTED_WORKER = Pattern.compile("Worker\\s+(\\S+) \\(pool");
    private Path dir;
    private Path stateFile;
    private Process dev;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("wharf-dev-it");
        stateFile = dir.resolve("dev.properties");
        dev = wharf(List.of("dev", "--gateway-port", "0", "--slots", "1")).redirectErrorStream(true)
                .redirectOutput(dir.resolve("dev.log").toFile()).start();
    }

    @AfterEach
    void stop() throws Exception {
        if (dev.isAlive()) { // a failed check: stopped as the test would have, so that its registry process goes too
            dev.destroy();
            if (!dev.waitFor(60, TimeUnit.SECONDS)) {
                dev.destroyForcibly();
            }
        }
        TempDirs.delete(dir);
    }

    /** The CLI in a JVM of its own, pointed at this test's endpoints file. */
    private ProcessBuilder wharf(List<String> args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), Wharf.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("WHARF_STATE_FILE", stateFile.toString());
        return builder;
    }

    private String log() throws Exception {
        return Files.readString(dir.resolve("dev.log"));
    }

    private static String printed(Pattern pattern, String log) {
        Matcher m = pattern.matcher(log);
        assertThat(m.find()).as("printed: " + pattern).isTrue();
        return m.group(1);
    }

    @Test
    void devPrintsAndWritesAnAdminKeyThatOtherCommandsAndTheGatewayUseAndStopsCleanly() throws Exception {
        await().atMost(Duration.ofSeconds(180)).until(() -> !dev.isAlive() || log().contains("Wharf is running."));
        assertThat(dev.isAlive()).as("wharf dev is running; its output:\n%s", log()).isTrue();
        String log = log();

        Properties endpoints = Endpoints.read(stateFile);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(stateFile))).as("it holds an admin key").isEqualTo("rw-------");
        assertThat(endpoints.getProperty("apikey")).isEqualTo(printed(PRINTED_KEY, log));
        assertThat(endpoints.getProperty("gateway")).matches("http://127\\.0\\.0\\.1:\\d+");

        // Another command finds the installation through the file alone.
        String name = "dev-cmd-" + UUID.randomUUID().toString().substring(0, 6);
        Process deploy = wharf(List.of("deploy", name, "--image", LocalImages.DEMO, "--memory", "32m", "--timeout", "10s"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("deploy.log").toFile()).start();
        assertThat(deploy.waitFor(90, TimeUnit.SECONDS) && deploy.exitValue() == 0).as(Files.readString(dir.resolve("deploy.log"))).isTrue();

        // And so does an HTTP client, with the key and URL it holds.
        HttpRequest call = HttpRequest.newBuilder(URI.create(endpoints.getProperty("gateway") + "/function/" + name))
                .header("Authorization", "Bearer " + endpoints.getProperty("apikey")).POST(HttpRequest.BodyPublishers.ofString("dev user")).build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(call, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).startsWith("Hello, dev user! (job ");

        String worker = printed(PRINTED_WORKER, log);
        dev.destroy(); // SIGTERM, as a service manager stops it; Ctrl-C takes the same path
        assertThat(dev.waitFor(90, TimeUnit.SECONDS)).as("wharf dev stopped").isTrue();
        assertThat(log()).contains("Stopped; no container left behind.");
        assertThat(stateFile).as("the endpoints file, with its key, is gone").doesNotExist();
        try (DockerClient docker = DockerEngine.client()) {
            assertThat(docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, worker)).exec()).isEmpty();
        }
    }
}
