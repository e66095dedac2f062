package io.wharf.worker;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.github.dockerjava.api.DockerClient;

import io.wharf.embedded.TempDirs;

/**
 * A Docker engine of the test's own (a second {@code dockerd} with its own socket, data and state under a temporary
 * directory, no bridge), so that a test can stop and restart it without touching the engine everything else uses.
 */
final class PrivateEngine implements AutoCloseable {
    private final Path dir;
    private final String host;
    private Process dockerd;

    PrivateEngine() throws IOException {
        this.dir = Files.createTempDirectory(Path.of("/tmp"), "wharf-engine-");
        this.host = "unix://" + dir.resolve("docker.sock");
        start();
    }

    /** Where clients reach it, for {@code DOCKER_HOST}. */
    String host() {
        return host;
    }

    DockerClient client() {
        return DockerEngine.client(host);
    }

    private void start() throws IOException {
        dockerd = new ProcessBuilder(List.of("dockerd", "--bridge=none", "--iptables=false", "--ip-masq=false",
                "--data-root", dir.resolve("data").toString(), "--exec-root", dir.resolve("exec").toString(),
                "--pidfile", dir.resolve("docker.pid").toString(), "-H", host))
                .redirectErrorStream(true).redirectOutput(dir.resolve("dockerd.log").toFile()).start();
        try (DockerClient docker = client()) {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                docker.pingCmd().exec();
                return true;
            });
        }
    }

    /** Stops it as a host's shutdown would (SIGTERM: it stops its containers, then exits) and starts it again. */
    void restart() throws IOException, InterruptedException {
        stop();
        start();
    }

    private void stop() throws InterruptedException {
        if (dockerd != null) {
            dockerd.destroy();
            if (!dockerd.waitFor(60, TimeUnit.SECONDS)) {
                dockerd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            dockerd = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        TempDirs.delete(dir);
    }
}
