package io.wharf.worker.docker;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import com.github.dockerjava.api.DockerClient;

import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.ContainerRunnerContract;
import io.wharf.worker.runtime.Labels;

/** The contract, held by the Docker runner against the real engine. */
class DockerContainerRunnerContractIT extends ContainerRunnerContract {
    private static DockerClient docker;
    private static String image;
    private static Path work;

    @BeforeAll
    static void engine() throws Exception {
        docker = DockerClients.fromEnvironment();
        image = LocalImages.busybox(docker);
        work = java.nio.file.Files.createTempDirectory("wharf-contract-");
    }

    @AfterAll
    static void closeEngine() throws Exception {
        docker.close();
        TempDirs.delete(work);
    }

    @Override
    protected ContainerRunner runner(String owner) {
        return new DockerContainerRunner(docker, owner, work, 60_000);
    }

    @Override
    protected String image() {
        return image;
    }

    @Override
    protected boolean anyContainerLeft(String owner) {
        return !docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, owner)).exec().isEmpty();
    }
}
