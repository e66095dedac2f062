package io.wharf.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;

import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.Ports;
import io.wharf.embedded.SchemaRegistryProcess;
import io.wharf.embedded.TempDirs;
import io.wharf.topics.Topics;

/**
 * {@code ./wharf images} builds every image with no image to start from, and each role's container starts as Wharf's
 * user and reports ready, on host networking against a real broker and registry (Testcontainers, local images only).
 * Docker's own health check, the image's, must agree. Start-to-ready times are printed for the sizing guide.
 */
class RoleImagesIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final Map<String, Double> READY_SECONDS = new LinkedHashMap<>();
    private static EmbeddedKafka kafka;
    private static SchemaRegistryProcess registry;

    @BeforeAll
    static void buildImagesAndStartACluster() throws Exception {
        RoleImages.ensure();
        kafka = EmbeddedKafka.start();
        registry = SchemaRegistryProcess.start();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            Topics.ensure(admin, Topics.core(4, (short) 1, List.of(Topics.DEFAULT_POOL)));
        }
    }

    @AfterAll
    static void stop() {
        READY_SECONDS.forEach((role, seconds) -> System.out.printf("image start-to-ready: %-10s %.1f s%n", role, seconds));
        if (registry != null) {
            registry.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void theImagesAreLabelledAndRunAsAnUnprivilegedUser() throws Exception {
        String labels = RoleImages.run(List.of("docker", "image", "inspect", "-f", "{{json .Config.Labels}} {{.Config.User}} {{json .Config.Healthcheck.Test}}",
                RoleImages.WHARF), false);
        assertThat(labels).contains("\"org.opencontainers.image.version\":\"" + RoleImages.VERSION + "\"")
                .containsPattern("\"org.opencontainers.image.revision\":\"[0-9a-f]{40}(-dirty)?\"")
                .contains(" 10001:10001 ", "/opt/wharf/bin/healthcheck");
        assertThat(oneShot(image().withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint("id")))).contains("uid=10001(wharf)");
    }

    @Test
    void aCollectorNamedInWharfJavaOptsReplacesTheSerialOne() {
        assertThat(oneShot(image().withEnv("WHARF_JAVA_OPTS", "-Xlog:gc").withCommand("--version"))).contains("Using Serial");
        // two collectors would stop the JVM at start
        assertThat(oneShot(image().withEnv("WHARF_JAVA_OPTS", "-XX:+UseG1GC -Xlog:gc").withCommand("--version"))).contains("Using G1");
    }

    private static GenericContainer<?> image() {
        return new GenericContainer<>(DockerImageName.parse(RoleImages.WHARF));
    }

    /** Runs {@code container} to its end with network {@code none} and returns what it printed. */
    private static String oneShot(GenericContainer<?> container) {
        try (container) {
            container.withNetworkMode("none").withStartupCheckStrategy(new OneShotStartupCheckStrategy()).start();
            return container.getLogs();
        }
    }

    @Test
    void eachRoleStartsAndReportsReady() throws Exception {
        Map<String, String> cluster = Map.of("WHARF_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "WHARF_REGISTRY_URL", registry.confluentUrl());
        int dispatcher = Ports.free();
        int gateway = Ports.free();
        int sources = Ports.free();
        int worker = Ports.free();
        Path shared = Files.createTempDirectory("wharf-image-worker-");
        Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        try (GenericContainer<?> d = role("dispatcher", cluster, Map.of("WHARF_DISPATCHER_MANAGEMENT_PORT", String.valueOf(dispatcher)));
                GenericContainer<?> g = role("gateway", cluster, Map.of("WHARF_GATEWAY_PORT", String.valueOf(gateway)));
                GenericContainer<?> s = role("sources", cluster, Map.of("WHARF_SOURCES_MANAGEMENT_PORT", String.valueOf(sources)));
                GenericContainer<?> w = role("worker", cluster, Map.of("WHARF_WORKER_MANAGEMENT_PORT", String.valueOf(worker),
                        "WHARF_WORKER_WORK_DIR", shared.resolve("work").toString()))
                        .withFileSystemBind("/var/run/docker.sock", "/var/run/docker.sock")
                        .withFileSystemBind(shared.toString(), shared.toString())
                        .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withGroupAdd(List.of(socketGroup())))) {
            start("dispatcher", d, readyz(dispatcher));
            start("gateway", g, readyz(gateway));
            start("sources", s, readyz(sources));
            start("worker", w, readyz(worker));
            for (GenericContainer<?> each : List.of(d, g, s, w)) {
                awaitHealthy(each);
            }
            assertThat(w.getLogs()).contains("Worker default-" + w.getContainerId().substring(0, 12) + " assigned");
        } finally {
            TempDirs.delete(shared);
        }
    }

    @Test
    void theBrokerAndRegistryImagesOfTheStackStartToo() throws Exception {
        int port = Ports.free();
        int controller = Ports.free();
        int registryPort = Ports.free();
        try (GenericContainer<?> broker = image().withNetworkMode("host").withCommand("broker")
                .withEnv(Map.of("WHARF_BROKER_ID", "1", "WHARF_BROKER_PORT", String.valueOf(port), "WHARF_BROKER_CONTROLLER_PORT", String.valueOf(controller),
                        "WHARF_BROKER_VOTERS", "1@127.0.0.1:" + controller, "WHARF_BROKER_CLUSTER_ID", Uuid.randomUuid().toString(),
                        "WHARF_BROKER_REPLICATION", "1"));
                GenericContainer<?> schemas = new GenericContainer<>(DockerImageName.parse(RoleImages.REGISTRY)).withNetworkMode("host")
                        .withEnv("REGISTRY_PORT", String.valueOf(registryPort))) {
            start("broker", broker, () -> {
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + port, "request.timeout.ms", "2000",
                        "default.api.timeout.ms", "2000"))) {
                    return admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size() == 1;
                }
            });
            start("registry", schemas, () -> get("http://127.0.0.1:" + registryPort + "/apis/ccompat/v7/subjects") == 200);
            awaitHealthy(broker);
            awaitHealthy(schemas);
        }
    }

    private static GenericContainer<?> role(String role, Map<String, String> cluster, Map<String, String> own) {
        GenericContainer<?> container = image().withNetworkMode("host").withCommand(role)
                .withEnv(cluster).withEnv(own);
        return container;
    }

    /** Starts {@code container} and records how long it took until {@code ready} held (polled every 100 ms). */
    private static void start(String role, GenericContainer<?> container, Callable<Boolean> ready) {
        long begin = System.nanoTime();
        container.waitingFor(new AbstractWaitStrategy() {
            @Override
            protected void waitUntilReady() {
                await(role + " ready").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(ready);
            }
        }).start();
        READY_SECONDS.put(role, (System.nanoTime() - begin) / 1e9);
    }

    private static Callable<Boolean> readyz(int port) {
        return () -> get("http://127.0.0.1:" + port + "/readyz") == 200;
    }

    private static int get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Docker's view, through the image's own HEALTHCHECK. */
    private static void awaitHealthy(GenericContainer<?> container) {
        await("Docker's health check of " + container.getDockerImageName()).atMost(Duration.ofSeconds(60)).until(() ->
                "healthy".equals(container.getCurrentContainerInfo().getState().getHealth().getStatus()));
    }

    private static String socketGroup() {
        try {
            return RoleImages.socketGroup();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
