package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobStatus;
import io.wharf.testkit.TcpSwitch;
import io.wharf.topics.Topics;

/** A worker that cannot reach the schema registry holds its jobs until it can, instead of dead-lettering them. */
class RegistryOutageIT {
    private WorkerHarness harness;
    private TcpSwitch registrySwitch;

    @BeforeEach
    void setUp() throws Exception {
        harness = new WorkerHarness(1);
        URI registry = URI.create(harness.registry.url());
        registrySwitch = new TcpSwitch(registry.getHost(), registry.getPort());
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
        registrySwitch.close();
    }

    @Test
    void jobsWaitForAnUnreachableRegistryAndRunInOrderOnceItAnswers() {
        String url = "http://127.0.0.1:" + registrySwitch.port() + URI.create(harness.registry.url()).getPath();
        harness.startWorker("w-outage", 2, Map.of(WorkerConfig.REGISTRY_URL_CONFIG, url));
        FunctionSpec fn = harness.function(harness.pool + "-echo").setCommand(List.of("cat")).build();
        harness.submit(harness.job("outage-1", fn, "one".getBytes(StandardCharsets.UTF_8)));
        harness.submit(harness.job("outage-2", fn, "two".getBytes(StandardCharsets.UTF_8)));

        // The worker asks for the jobs' schema at least twice (a first try and a retry) while the registry is away.
        await().atMost(Duration.ofSeconds(30)).until(() -> registrySwitch.refused() >= 2);
        registrySwitch.turn(true);

        assertThat(harness.awaitResult("outage-1", Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(harness.awaitResult("outage-2", Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(harness.deadLetters(Topics.jobs(harness.pool))).as("dead letters from the outage").isEmpty();
    }
}
