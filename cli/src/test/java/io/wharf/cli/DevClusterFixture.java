package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.github.dockerjava.api.DockerClient;

import io.wharf.embedded.LocalImages;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.runtime.Labels;

/**
 * The embedded default as the end-to-end tests use it: started with the busybox image built, and stopped with a
 * check that its worker left no container behind.
 */
final class DevClusterFixture implements AutoCloseable {
    final DevCluster cluster;
    private final DockerClient docker;

    private DevClusterFixture(DevCluster cluster, DockerClient docker) {
        this.cluster = cluster;
        this.docker = docker;
    }

    static DevClusterFixture start() {
        DockerClient docker = DockerEngine.client();
        LocalImages.busybox(docker);
        return new DevClusterFixture(DevCluster.start(4, false), docker);
    }

    @Override
    public void close() throws Exception {
        cluster.close();
        assertThat(docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.WORKER, cluster.workerId())).exec())
                .as("containers left by the dev worker").isEmpty();
        docker.close();
    }
}
