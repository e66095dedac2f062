package io.wharf.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apicurio Registry run as a child JVM on a free loopback port, with in-memory storage. Its
 * Confluent-compatible API ({@link #confluentUrl()}) is what Wharf's serde speaks; its native API
 * ({@link #apicurioUrl()}) is what Apicurio's own serdes speak.
 */
public final class SchemaRegistryProcess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SchemaRegistryProcess.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final int port;
    private final Process process;
    private final Path logFile;

    private SchemaRegistryProcess(int port, Process process, Path logFile) {
        this.port = port;
        this.process = process;
        this.logFile = logFile;
    }

    /** Starts the registry on a free port and waits until its API answers. */
    public static SchemaRegistryProcess start() {
        return start(0);
    }

    public static SchemaRegistryProcess start(int requestedPort) {
        Path runner = runnerJar();
        int port = requestedPort == 0 ? Ports.free() : requestedPort;
        long begin = System.nanoTime();
        try {
            Path logFile = Files.createTempFile("wharf-registry-", ".log");
            List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + port,
                    "-Dquarkus.log.level=WARN", "-Dquarkus.banner.enabled=false",
                    "-jar", runner.toString()));
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
            SchemaRegistryProcess registry = new SchemaRegistryProcess(port, process, logFile);
            // A JVM that exits without close() must not leave the registry running.
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "wharf-registry-stopper"));
            registry.awaitReady();
            log.info("Schema registry (Apicurio) started on {} in {} ms", registry.confluentUrl(), (System.nanoTime() - begin) / 1_000_000);
            return registry;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the schema registry from " + runner, e);
        }
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(confluentUrl() + "/subjects")).timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("The schema registry exited with code " + process.exitValue() + " during start-up:\n" + logTail());
            }
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("Interrupted while waiting for the schema registry", e);
            }
            Wait.pause(Duration.ofMillis(100));
        }
        close();
        throw new IllegalStateException("The schema registry did not answer on port " + port + " within " + START_TIMEOUT.toSeconds() + " s:\n" + logTail());
    }

    /** Base URL of the Confluent-compatible API, for {@code wharf.registry.url}. */
    public String confluentUrl() {
        return "http://127.0.0.1:" + port + "/apis/ccompat/v7";
    }

    /** Base URL of Apicurio's native v2 API. */
    public String apicurioUrl() {
        return "http://127.0.0.1:" + port + "/apis/registry/v2";
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            log.info("Stopping schema registry on port {}", port);
            process.destroy();
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(logFile);
        } catch (IOException e) {
            // a temp file; leaving it is harmless
        }
    }

    /** The registry's runner jar, unpacked by the embedded module's build (or named by {@code WHARF_REGISTRY_HOME}). */
    static Path runnerJar() {
        String home = System.getenv("WHARF_REGISTRY_HOME");
        String version;
        Properties props = new Properties();
        try (InputStream in = SchemaRegistryProcess.class.getResourceAsStream("/wharf-embedded.properties")) {
            props.load(in);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("wharf-embedded.properties is missing from the classpath: build the embedded module with Maven", e);
        }
        version = props.getProperty("apicurio.version");
        if (home == null) {
            home = props.getProperty("apicurio.dir");
        }
        Path jar = Path.of(home, "apicurio-registry-app-" + version + "-runner.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("Apicurio Registry is not unpacked at " + jar
                    + ": run `./mvnw -pl embedded generate-resources` (or set WHARF_REGISTRY_HOME to an unpacked apicurio-registry-app " + version + ")");
        }
        return jar;
    }

    private static String javaBinary() {
        String override = System.getenv("WHARF_REGISTRY_JAVA");
        if (override != null && !override.isBlank()) {
            return override;
        }
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
