package io.wharf.worker;

import java.nio.file.Path;

import com.github.dockerjava.api.DockerClient;

import io.wharf.worker.docker.DockerClients;
import io.wharf.worker.docker.DockerContainerRunner;
import io.wharf.worker.docker.ImagePins;
import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.WorkerMeters;

/**
 * The worker's Docker runtime, for whoever else needs it (the CLI pins images at deploy, a benchmark runs bare
 * containers): the engine is found from the environment ({@code DOCKER_HOST}, else the local socket).
 */
public final class DockerEngine {
    private DockerEngine() {
    }

    /** A client of the engine; close it after use. */
    public static DockerClient client() {
        return DockerClients.fromEnvironment();
    }

    /** A client of the engine at {@code host} ({@code unix:///path/to/docker.sock}, say); close it after use. */
    public static DockerClient client(String host) {
        return DockerClients.of(host);
    }

    /** The runner a worker with these settings uses, recording its pools and image cache in {@code meters}. */
    public static ContainerRunner runner(WorkerConfig config, WorkerMeters meters) {
        return new DockerContainerRunner(client(), config.workerId(), Path.of(config.getString(WorkerConfig.WORK_DIR_CONFIG)),
                new DockerContainerRunner.Options(config.getLong(WorkerConfig.PULL_TIMEOUT_MS_CONFIG), config.getLong(WorkerConfig.IMAGE_CACHE_BYTES_CONFIG),
                        config.getInt(WorkerConfig.PRESTART_CONFIG), Path.of(config.getString(WorkerConfig.SHIM_PATH_CONFIG)),
                        config.getBoolean(WorkerConfig.HOST_CREDENTIALS_CONFIG),
                        config.getString(WorkerConfig.CGROUP_ROOT_CONFIG).isBlank() ? null : Path.of(config.getString(WorkerConfig.CGROUP_ROOT_CONFIG))), meters);
    }

    /** A plain runner for {@code owner}: fresh containers, no image budget, no pre-starting. */
    public static ContainerRunner runner(DockerClient docker, String owner, Path workDir) {
        return new DockerContainerRunner(docker, owner, workDir, 300_000);
    }

    /**
     * What a function deployed with {@code image} should run: its registry digest, else its local image id, so that
     * a tag that moves later does not change it. Pulls the image when the engine lacks it.
     */
    public static String pin(String image, String username, String password) throws InterruptedException {
        try (DockerClient docker = client()) {
            return ImagePins.pin(docker, image, username, password);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Could not close the Docker client: " + e.getMessage(), e);
        }
    }
}
