package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.Ports;
import io.wharf.testkit.SharedServices;
import io.wharf.embedded.TempDirs;
import io.wharf.topics.TopicSchemas;
import io.wharf.topics.Topics;

/**
 * A dispatcher that cannot work refuses to start, saying why and what to do; one that can publishes the
 * schemas clients need before it reports running. A broker of its own: these tests shape its topics.
 */
class DispatcherStartupIT {
    private static EmbeddedKafka kafka;
    private static Path state;

    @BeforeAll
    static void start() throws Exception {
        kafka = EmbeddedKafka.start();
        state = Files.createTempDirectory("wharf-dispatcher-startup-");
    }

    @AfterAll
    static void stop() {
        kafka.close();
        TempDirs.delete(state);
    }

    private static Map<String, Object> settings(String registryUrl) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        settings.put(DispatcherConfig.REGISTRY_URL_CONFIG, registryUrl);
        settings.put(DispatcherConfig.STATE_DIR_CONFIG, state.toString());
        settings.put(DispatcherConfig.STARTUP_TIMEOUT_MS_CONFIG, 2_000);
        settings.put(DispatcherConfig.MANAGEMENT_PORT_CONFIG, 0);
        return settings;
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    @Test
    void shouldRefuseToStartWithoutTheRegistryNamingTheTimeoutKey() {
        String nowhere = "http://127.0.0.1:" + Ports.free() + "/apis/ccompat/v7";
        try (Dispatcher dispatcher = new Dispatcher(settings(nowhere))) {
            assertThatThrownBy(dispatcher::start).hasMessageContaining("schema registry")
                    .hasMessageContaining(DispatcherConfig.STARTUP_TIMEOUT_MS_CONFIG).hasMessageContaining(nowhere);
        }
    }

    @Test
    void shouldExitNonZeroFromMainWhenItCannotStartOrIsMisconfigured() throws Exception {
        String nowhere = "http://127.0.0.1:" + Ports.free() + "/apis/ccompat/v7";
        Map<String, Object> settings = settings(nowhere);
        assertThat(runMain(settings)).as("exit code when the registry never answers").isEqualTo(1);
        settings.put(DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, "soon");
        assertThat(runMain(settings)).as("exit code on a bad setting").isEqualTo(2);
    }

    private static int runMain(Map<String, Object> settings) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), DispatcherMain.class.getName()));
        settings.forEach((k, v) -> command.add(k + "=" + v));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("DispatcherMain exited").isTrue();
        return process.exitValue();
    }

    @Test
    void shouldRefuseToStartWhenTopicsAreMissingOrPartitionedApart() throws Exception {
        String registry = SharedServices.registry().confluentUrl();
        try (Dispatcher dispatcher = new Dispatcher(settings(registry))) {
            assertThatThrownBy(dispatcher::start).hasMessageContaining("Wharf's topics are missing").hasMessageContaining("wharf dev");
        }
        try (Admin admin = admin()) {
            List<NewTopic> topics = new java.util.ArrayList<>(Topics.core(4, (short) 1, List.of()));
            topics.removeIf(t -> t.name().equals(Topics.ATTEMPTS));
            topics.add(new NewTopic(Topics.ATTEMPTS, 2, (short) 1));
            Topics.ensure(admin, topics);
        }
        try (Dispatcher dispatcher = new Dispatcher(settings(registry))) {
            assertThatThrownBy(dispatcher::start).hasMessageContaining("Partition counts differ")
                    .hasMessageContaining("wharf.attempts=2").hasMessageContaining("wharf.events=4");
        }
        // Whatever the outcome above, the schemas clients need were published first.
        HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(registry);
        for (TopicSchemas.Entry entry : TopicSchemas.ALL) {
            assertThat(client.latest(entry.subject())).as(entry.subject()).get().extracting(SchemaRegistryClient.Version::schema).isEqualTo(entry.value());
        }
    }
}
