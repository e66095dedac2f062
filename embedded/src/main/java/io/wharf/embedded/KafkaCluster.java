package io.wharf.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A KRaft cluster of several nodes (each a combined broker and controller) on loopback, each in a process of its
 * own so that one can be SIGKILLed and restarted, as a host would fail and come back. Replication factor and
 * {@code min.insync.replicas} are the cluster's size (at most 3) and one less: with three nodes, one may be down
 * and every write still has two copies.
 */
public final class KafkaCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaCluster.class);

    private final Path dir;
    private final List<EmbeddedKafka.Node> nodes;
    private final Process[] processes;

    private KafkaCluster(Path dir, List<EmbeddedKafka.Node> nodes) {
        this.dir = dir;
        this.nodes = nodes;
        this.processes = new Process[nodes.size()];
    }

    /** Starts {@code size} nodes and waits until every one has joined as a broker. */
    public static KafkaCluster start(int size) {
        try {
            Path dir = Files.createTempDirectory("wharf-kafka-cluster-");
            int[] brokerPorts = IntStream.range(0, size).map(i -> Ports.free()).toArray();
            int[] controllerPorts = IntStream.range(0, size).map(i -> Ports.free()).toArray();
            String voters = IntStream.range(0, size).mapToObj(i -> (i + 1) + "@127.0.0.1:" + controllerPorts[i]).collect(Collectors.joining(","));
            String clusterId = Uuid.randomUuid().toString();
            List<EmbeddedKafka.Node> nodes = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                nodes.add(new EmbeddedKafka.Node(i + 1, brokerPorts[i], controllerPorts[i], voters, clusterId, Math.min(3, size)));
            }
            KafkaCluster cluster = new KafkaCluster(dir, nodes);
            for (int i = 0; i < size; i++) {
                cluster.launch(i);
            }
            cluster.awaitBrokers(size, Duration.ofSeconds(120));
            return cluster;
        } catch (IOException e) {
            throw new IllegalStateException("Could not start a Kafka cluster: " + e.getMessage(), e);
        }
    }

    public String bootstrapServers() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.brokerPort()).collect(Collectors.joining(","));
    }

    public int size() {
        return nodes.size();
    }

    /** SIGKILLs node {@code i} (0-based): no clean shutdown, as a host that lost power. */
    public void kill(int i) throws InterruptedException {
        Process p = processes[i];
        if (p != null) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            processes[i] = null;
            log.info("Killed Kafka node {} (port {})", nodes.get(i).id(), nodes.get(i).brokerPort());
        }
    }

    /** Starts a killed node again, with its data, and waits until the cluster has all its brokers back. */
    public void restart(int i) throws IOException {
        launch(i);
        awaitBrokers(nodes.size(), Duration.ofSeconds(120));
    }

    private void launch(int i) throws IOException {
        EmbeddedKafka.Node n = nodes.get(i);
        Path data = dir.resolve("node-" + n.id());
        Files.createDirectories(data);
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), KafkaClusterNode.class.getName(), data.toString(), String.valueOf(n.id()),
                String.valueOf(n.brokerPort()), String.valueOf(n.controllerPort()), n.voters(), n.clusterId(), String.valueOf(n.replication()));
        processes[i] = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("node-" + n.id() + ".log").toFile()).start();
    }

    private void awaitBrokers(int count, Duration timeout) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            Wait.until(count + " brokers of the Kafka cluster (logs in " + dir + ")", timeout, Duration.ofMillis(200), () -> {
                try {
                    return admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size() >= count;
                } catch (Exception e) {
                    return false; // not up yet
                }
            });
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < processes.length; i++) {
            Process p = processes[i];
            if (p != null) {
                p.destroy();
                try {
                    if (!p.waitFor(30, TimeUnit.SECONDS)) {
                        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                processes[i] = null;
            }
        }
        TempDirs.delete(dir);
    }
}
