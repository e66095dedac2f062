package io.wharf.worker.docker;

import java.time.Duration;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;

/** docker-java clients configured from the environment ({@code DOCKER_HOST}, else the local socket). */
public final class DockerClients {
    private DockerClients() {
    }

    public static DockerClient fromEnvironment() {
        return of(DefaultDockerClientConfig.createDefaultConfigBuilder().build());
    }

    /** A client of the engine at {@code host} ({@code unix:///path/to/docker.sock}, say). */
    public static DockerClient of(String host) {
        return of(DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host).build());
    }

    private static DockerClient of(DefaultDockerClientConfig config) {
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .maxConnections(256)
                .connectionTimeout(Duration.ofSeconds(5))
                .responseTimeout(Duration.ofMinutes(10))
                .build();
        return DockerClientImpl.getInstance(config, http);
    }
}
