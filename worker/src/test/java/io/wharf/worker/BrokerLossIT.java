package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

import io.wharf.embedded.EmbeddedKafka;
import io.wharf.testkit.SharedServices;
import io.wharf.topics.Topics;

/**
 * A worker whose brokers are gone for good fails within its broker timeout, and its process exits 1 so that a
 * supervisor restarts it, instead of waiting forever doing nothing.
 */
class BrokerLossIT {
    @Test
    void shouldExitNonZeroWithinTheBrokerTimeoutWhenItsBrokerIsGoneForGood() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.start(); // its own: this test stops it
        Path log = Files.createTempFile("wharf-broker-loss-", ".log");
        Process worker = null;
        try {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                Topics.ensure(admin, Topics.core(1, (short) 1, List.of(Topics.DEFAULT_POOL)));
            }
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                    "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName(),
                    WorkerConfig.BOOTSTRAP_SERVERS_CONFIG + "=" + kafka.bootstrapServers(),
                    WorkerConfig.REGISTRY_URL_CONFIG + "=" + SharedServices.registry().confluentUrl(),
                    WorkerConfig.ID_CONFIG + "=broker-loss", WorkerConfig.MANAGEMENT_PORT_CONFIG + "=0", WorkerConfig.BROKER_TIMEOUT_MS_CONFIG + "=3000"));
            worker = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(log).contains("broker-loss assigned"));

            kafka.close();
            long lost = System.nanoTime();
            assertThat(worker.waitFor(60, TimeUnit.SECONDS)).as("the worker exited").isTrue();
            long tookMillis = (System.nanoTime() - lost) / 1_000_000;
            System.out.println("Worker exited " + tookMillis + " ms after its broker stopped (broker timeout 3000 ms)");
            assertThat(worker.exitValue()).as("exit code (log: %s)", log).isEqualTo(1);
            assertThat(Files.readString(log)).contains("No Kafka broker has answered").contains(WorkerConfig.BROKER_TIMEOUT_MS_CONFIG);
            assertThat(tookMillis).as("exited within the timeout plus the drain and close bounds").isLessThan(45_000);
        } finally {
            if (worker != null) {
                worker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            kafka.close();
            new File(log.toString()).delete();
        }
    }
}
