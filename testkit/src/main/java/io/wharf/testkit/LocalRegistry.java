package io.wharf.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.wharf.embedded.Ports;
import io.wharf.embedded.Wait;
import io.wharf.embedded.TempDirs;

/**
 * A real image registry (Debian's {@code docker-registry}, the CNCF distribution) on a free 127.0.0.1 port,
 * storing in a temporary directory, optionally behind htpasswd basic auth. The Docker engine talks plain HTTP
 * to registries on 127.0.0.0/8, so no TLS is needed.
 */
public final class LocalRegistry implements AutoCloseable {
    private static final Path BINARY = Path.of(System.getenv().getOrDefault("WHARF_REGISTRY_BINARY", "/usr/bin/docker-registry"));

    private final int port;
    private final Process process;
    private final Path dir;

    private LocalRegistry(int port, Process process, Path dir) {
        this.port = port;
        this.process = process;
        this.dir = dir;
    }

    /** Starts a registry; with {@code user} and {@code password} it requires them (basic auth). */
    public static LocalRegistry start(String user, String password) {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException("No image registry binary at " + BINARY
                    + ": install it (Debian: apt-get install docker-registry) or set WHARF_REGISTRY_BINARY");
        }
        int port = Ports.free();
        try {
            Path dir = Files.createTempDirectory("wharf-image-registry-");
            StringBuilder config = new StringBuilder("""
                    version: 0.1
                    log:
                      level: warn
                    storage:
                      filesystem:
                        rootdirectory: %s
                      delete:
                        enabled: true
                    http:
                      addr: 127.0.0.1:%d
                    """.formatted(dir.resolve("data"), port));
            if (user != null) {
                Process htpasswd = new ProcessBuilder("htpasswd", "-Bbn", user, password).redirectErrorStream(false).start();
                String line = new String(htpasswd.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                if (htpasswd.waitFor() != 0 || line.isEmpty()) {
                    throw new IllegalStateException("htpasswd failed: install apache2-utils");
                }
                Files.writeString(dir.resolve("htpasswd"), line + "\n");
                config.append("""
                        auth:
                          htpasswd:
                            realm: wharf-test
                            path: %s
                        """.formatted(dir.resolve("htpasswd")));
            }
            Path configFile = Files.writeString(dir.resolve("config.yml"), config);
            Process process = new ProcessBuilder(BINARY.toString(), "serve", configFile.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "wharf-image-registry-stopper"));
            LocalRegistry registry = new LocalRegistry(port, process, dir);
            registry.awaitReady();
            return registry;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start the image registry", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        }
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newHttpClient();
        Wait.until("the image registry on " + host(), Duration.ofSeconds(30), Duration.ofMillis(50), () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("The image registry exited: " + readLog());
            }
            try {
                int code = http.send(HttpRequest.newBuilder(URI.create("http://" + host() + "/v2/")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                return code == 200 || code == 401;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
    }

    /** {@code 127.0.0.1:PORT}, the prefix of image names in this registry. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    private String readLog() {
        try {
            return Files.readString(dir.resolve("registry.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        TempDirs.delete(dir);
    }
}
