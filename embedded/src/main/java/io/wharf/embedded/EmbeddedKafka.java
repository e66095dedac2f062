package io.wharf.embedded;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;

/**
 * A single-node KRaft broker (combined broker and controller) in this JVM, bound to 127.0.0.1 only. It is a
 * real broker: transactions, consumer groups, compaction and Kafka Streams work as in production, with
 * replication factors of 1.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** Large enough for a 6 MiB payload plus its record; topics that carry payloads get the same limit. */
    public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private final Path dataDir;
    private final boolean deleteOnClose;
    private final Node node;
    private boolean stockLimits;
    private Secured secured;
    private KafkaRaftServer server;

    /**
     * A broker as companies run theirs: clients connect over TLS with SCRAM-SHA-512 or OAUTHBEARER ({@code SASL_SSL}),
     * or with mutual TLS on a second port ({@code SSL}, a client certificate its trust store holds, the principal
     * {@code User:CN=...}), and an authorizer checks every request against ACLs (none at first: nobody may do
     * anything). OAUTHBEARER takes Kafka's unsecured tokens (a test's stand-in for an identity provider). A plaintext
     * listener on a third loopback port, whose clients are super users, is for the test's own set-up.
     */
    public record Secured(Path keystore, Path truststore, String password, int mtlsPort, int adminPort) {
        public static Secured with(Path keystore, Path truststore, String password) {
            return new Secured(keystore, truststore, password, Ports.free(), Ports.free());
        }
    }

    /**
     * One node of a KRaft quorum (combined broker and controller) on loopback: its id, its ports, the quorum's
     * voters ({@code id@127.0.0.1:controllerPort,...}), the cluster's id, and the replication factor of Kafka's
     * internal topics and the default for new ones ({@code min.insync.replicas} is one less, at least 1).
     */
    public record Node(int id, int brokerPort, int controllerPort, String voters, String clusterId, int replication) {
        static Node single(int brokerPort) {
            int controllerPort = Ports.free();
            return new Node(1, brokerPort == 0 ? Ports.free() : brokerPort, controllerPort, "1@127.0.0.1:" + controllerPort,
                    Uuid.randomUuid().toString(), 1);
        }

        int minInsync() {
            return Math.max(1, replication - 1);
        }
    }

    private EmbeddedKafka(Path dataDir, boolean deleteOnClose, Node node) {
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.node = node;
    }

    /** Starts one node of a quorum (see {@link KafkaCluster}) keeping its data in {@code dataDir}. */
    public static EmbeddedKafka startNode(Path dataDir, Node node) {
        EmbeddedKafka kafka = new EmbeddedKafka(dataDir, false, node);
        kafka.startServer(false);
        return kafka;
    }

    /** Starts a broker on a free loopback port with its data in a temporary directory removed on close. */
    public static EmbeddedKafka start() {
        try {
            return start(Files.createTempDirectory("wharf-kafka-"), true, 0);
        } catch (IOException e) {
            throw new IllegalStateException("Could not create a data directory for the embedded broker", e);
        }
    }

    /** Starts a broker on {@code port} (0 = any free one) keeping its data in {@code dataDir}. */
    public static EmbeddedKafka start(Path dataDir, boolean deleteOnClose, int port) {
        EmbeddedKafka kafka = new EmbeddedKafka(dataDir, deleteOnClose, Node.single(port));
        kafka.startServer(false);
        return kafka;
    }

    /**
     * Starts a broker with Kafka's default record limits ({@code message.max.bytes} 1 MiB), as users' brokers have,
     * on a free port with its data removed on close: what the tests of record sizes run against.
     */
    public static EmbeddedKafka startStock() {
        try {
            EmbeddedKafka kafka = new EmbeddedKafka(Files.createTempDirectory("wharf-kafka-stock-"), true, Node.single(0));
            kafka.startServer(true);
            return kafka;
        } catch (IOException e) {
            throw new IllegalStateException("Could not create a data directory for the embedded broker", e);
        }
    }

    /** Starts a {@link Secured} broker on free ports, its data removed on close. */
    public static EmbeddedKafka startSecured(Secured secured) {
        try {
            EmbeddedKafka kafka = new EmbeddedKafka(Files.createTempDirectory("wharf-kafka-secured-"), true, Node.single(0));
            kafka.secured = secured;
            kafka.startServer(false);
            return kafka;
        } catch (IOException e) {
            throw new IllegalStateException("Could not create a data directory for the embedded broker", e);
        }
    }

    /** The super-user plaintext listener of a secured broker (the broker's only listener otherwise). */
    public String adminBootstrapServers() {
        return secured == null ? bootstrapServers() : "127.0.0.1:" + secured.adminPort();
    }

    /** The mutual-TLS listener of a secured broker. */
    public String mtlsBootstrapServers() {
        return "127.0.0.1:" + secured.mtlsPort();
    }

    private void securedListeners(Map<String, Object> props) {
        props.put("listeners", "SASL_SSL://127.0.0.1:" + node.brokerPort() + ",SSL://127.0.0.1:" + secured.mtlsPort()
                + ",INTERNAL://127.0.0.1:" + secured.adminPort() + ",CONTROLLER://127.0.0.1:" + node.controllerPort());
        props.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + node.brokerPort() + ",SSL://127.0.0.1:" + secured.mtlsPort()
                + ",INTERNAL://127.0.0.1:" + secured.adminPort());
        props.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,SSL:SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("inter.broker.listener.name", "INTERNAL");
        props.put("sasl.enabled.mechanisms", "SCRAM-SHA-512,OAUTHBEARER");
        props.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        props.put("listener.name.sasl_ssl.oauthbearer.sasl.jaas.config",
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;");
        props.put("listener.name.ssl.ssl.client.auth", "required");
        props.put("ssl.keystore.location", secured.keystore().toString());
        props.put("ssl.keystore.password", secured.password());
        props.put("ssl.key.password", secured.password());
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.truststore.location", secured.truststore().toString());
        props.put("ssl.truststore.password", secured.password());
        props.put("ssl.truststore.type", "PKCS12");
        props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        // The plaintext listeners (the test's set-up, the controller) authenticate nobody: ANONYMOUS is their super user.
        props.put("super.users", "User:ANONYMOUS");
    }

    private void startServer(boolean stockLimits) {
        this.stockLimits = stockLimits;
        long begin = System.nanoTime();
        Map<String, Object> props = new HashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(node.id()));
        props.put("controller.quorum.voters", node.voters());
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + node.brokerPort() + ",CONTROLLER://127.0.0.1:" + node.controllerPort());
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + node.brokerPort());
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        if (secured != null) {
            securedListeners(props);
        }
        props.put("log.dirs", dataDir.toString());
        props.put("num.partitions", "4");
        props.put("auto.create.topics.enable", "false");
        props.put("default.replication.factor", String.valueOf(node.replication()));
        props.put("min.insync.replicas", String.valueOf(node.minInsync()));
        props.put("offsets.topic.replication.factor", String.valueOf(node.replication()));
        props.put("offsets.topic.num.partitions", "4");
        props.put("transaction.state.log.replication.factor", String.valueOf(node.replication()));
        props.put("transaction.state.log.min.isr", String.valueOf(node.minInsync()));
        props.put("transaction.state.log.num.partitions", "4");
        props.put("share.coordinator.state.topic.replication.factor", String.valueOf(node.replication()));
        props.put("share.coordinator.state.topic.min.isr", String.valueOf(node.minInsync()));
        props.put("group.initial.rebalance.delay.ms", "0");
        // Lets tests and `wharf dev` use short consumer session timeouts, so a dead worker's jobs move quickly.
        props.put("group.min.session.timeout.ms", "1000");
        if (!stockLimits) {
            props.put("message.max.bytes", String.valueOf(MAX_MESSAGE_BYTES));
            props.put("replica.fetch.max.bytes", String.valueOf(MAX_MESSAGE_BYTES));
        }
        props.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));
        KafkaConfig config = new KafkaConfig(props, false);
        try {
            if (!Files.exists(dataDir.resolve("meta.properties"))) {
                Files.createDirectories(dataDir);
                new Formatter()
                        .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                        .setClusterId(node.clusterId())
                        .setNodeId(node.id())
                        .setControllerListenerName("CONTROLLER")
                        .setMetadataLogDirectory(dataDir.toString())
                        .setDirectories(List.of(dataDir.toString()))
                        .setReleaseVersion(MetadataVersion.latestProduction())
                        .run();
            }
        } catch (Exception e) {
            throw new IllegalStateException("Could not format the embedded broker's storage in " + dataDir + ": " + e.getMessage(), e);
        }
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        log.info("Embedded Kafka broker started on {} in {} ms (data in {})", bootstrapServers(),
                (System.nanoTime() - begin) / 1_000_000, dataDir);
    }

    public String bootstrapServers() {
        return "127.0.0.1:" + node.brokerPort();
    }

    /** Stops the broker, keeping its data and ports, as an outage would: {@link #restart()} brings it back as it was. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        log.info("Stopping embedded Kafka broker on {}", bootstrapServers());
        server.shutdown();
        server.awaitShutdown();
        server = null;
    }

    /** Starts a stopped broker again on the same ports with the same data. */
    public synchronized void restart() {
        if (server == null) {
            startServer(stockLimits);
        }
    }

    @Override
    public synchronized void close() {
        stop();
        if (deleteOnClose) {
            TempDirs.delete(dataDir);
        }
    }
}
