package io.wharf.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.dispatcher.Dispatcher;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.SchemaRegistryProcess;
import io.wharf.embedded.TempDirs;
import io.wharf.gateway.Gateway;
import io.opentelemetry.api.OpenTelemetry;
import io.wharf.ops.Metrics;
import io.wharf.ops.Telemetry;
import io.wharf.ops.Traces;
import io.wharf.gateway.GatewayConfig;
import io.wharf.topics.Topics;
import io.wharf.worker.Worker;
import io.wharf.worker.WorkerConfig;

/**
 * The embedded default: a broker, a schema registry, a dispatcher, a worker and the HTTP gateway in one process,
 * against the local Docker engine. It writes where it listens (and an admin key of the gateway) to
 * {@link Endpoints#stateFile()} so that other {@code wharf} commands and HTTP clients find it without flags.
 */
public final class DevCluster implements AutoCloseable {
    public static final int PARTITIONS = 4;

    private final EmbeddedKafka kafka;
    private final SchemaRegistryProcess registry;
    private final Dispatcher dispatcher;
    private final Worker worker;
    private final Gateway gateway;
    private final String adminKey;
    private final Path stateDir;
    private final Metrics metrics;
    private final OpenTelemetry traces;
    private boolean closed;

    private DevCluster(EmbeddedKafka kafka, SchemaRegistryProcess registry, Dispatcher dispatcher, Worker worker, Gateway gateway, String adminKey,
                       Path stateDir, Metrics metrics, OpenTelemetry traces) {
        this.metrics = metrics;
        this.traces = traces;
        this.kafka = kafka;
        this.registry = registry;
        this.dispatcher = dispatcher;
        this.worker = worker;
        this.gateway = gateway;
        this.adminKey = adminKey;
        this.stateDir = stateDir;
    }

    /** Starts everything; {@code slots} is the worker's parallelism. */
    public static DevCluster start(int slots, boolean writeEndpoints) {
        return start(slots, writeEndpoints, Map.of());
    }

    /** As {@link #start(int, boolean)}, with extra worker settings (keys of {@link WorkerConfig}). */
    public static DevCluster start(int slots, boolean writeEndpoints, Map<String, Object> workerSettings) {
        return start(slots, writeEndpoints, workerSettings, 0);
    }

    /** As {@link #start(int, boolean, Map)}, the gateway on {@code gatewayPort} of 127.0.0.1 (0: a free one). */
    public static DevCluster start(int slots, boolean writeEndpoints, Map<String, Object> workerSettings, int gatewayPort) {
        return start(slots, writeEndpoints, workerSettings, gatewayPort, true);
    }

    /**
     * As above; without {@code meters} the dispatcher and the worker record into a registry that keeps nothing (the
     * benchmark's baseline for what metering costs them).
     */
    public static DevCluster start(int slots, boolean writeEndpoints, Map<String, Object> workerSettings, int gatewayPort, boolean meters) {
        EmbeddedKafka kafka = EmbeddedKafka.start();
        SchemaRegistryProcess registry = null;
        Dispatcher dispatcher = null;
        Worker worker = null;
        Gateway gateway = null;
        // One set of meters for the process: the gateway's /metrics shows the dispatcher's and the worker's too.
        Metrics metrics = new Metrics();
        // Spans exported with OTLP when the OTEL_* variables say where (see Traces), else none recorded.
        OpenTelemetry traces = Traces.fromEnvironment("dev", System.getenv());
        Telemetry telemetry = new Telemetry(meters ? metrics.registry() : new io.micrometer.core.instrument.composite.CompositeMeterRegistry(), traces);
        try {
            registry = SchemaRegistryProcess.start();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                Topics.ensure(admin, Topics.core(PARTITIONS, (short) 1, List.of(Topics.DEFAULT_POOL)));
            }
            Path stateDir = Files.createTempDirectory("wharf-dev-state-");
            dispatcher = new Dispatcher(Map.of(
                    DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    DispatcherConfig.REGISTRY_URL_CONFIG, registry.confluentUrl(),
                    DispatcherConfig.STATE_DIR_CONFIG, stateDir.toString(),
                    DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, DISPATCHER_COMMIT_INTERVAL_MS), telemetry).start();
            Map<String, Object> settings = new java.util.HashMap<>(Map.of(
                    WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    WorkerConfig.REGISTRY_URL_CONFIG, registry.confluentUrl(),
                    WorkerConfig.SLOTS_CONFIG, slots,
                    WorkerConfig.PRESTART_CONFIG, 2,
                    WorkerConfig.ID_CONFIG, "dev-" + UUID.randomUUID().toString().substring(0, 8)));
            Map<String, Object> secrets = new java.util.HashMap<>();
            if (SecretsCommand.keysFromEnvironment() != null) { // checked here, so that an error names the variable
                // What `wharf deploy` seals runs here, and its webhooks are checked here.
                String keys = Wharf.environment.get(SecretsCommand.KEY_ENV);
                secrets.put(keys != null && !keys.isBlank() ? WorkerConfig.SECRETS_KEY_CONFIG : WorkerConfig.SECRETS_KEY_FILE_CONFIG,
                        keys != null && !keys.isBlank() ? keys : Wharf.environment.get(SecretsCommand.KEY_FILE_ENV));
            }
            settings.putAll(secrets);
            settings.putAll(workerSettings);
            worker = new Worker(settings, telemetry).start();
            Map<String, Object> gatewaySettings = new java.util.HashMap<>(secrets);
            gatewaySettings.putAll(Map.of(GatewayConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                    GatewayConfig.REGISTRY_URL_CONFIG, registry.confluentUrl(), GatewayConfig.PORT_CONFIG, gatewayPort,
                    // On a laptop, file triggers may watch the user's own directories and the temporary one.
                    io.wharf.sources.SourcesConfig.FILE_ROOTS_CONFIG, System.getProperty("user.home") + "," + System.getProperty("java.io.tmpdir")));
            gateway = new Gateway(gatewaySettings, metrics, traces).alsoReady(dispatcher, worker).start();
            if (!dispatcher.awaitRunning(Duration.ofSeconds(60))) {
                throw new IllegalStateException("The dispatcher did not reach RUNNING within 60 s (state " + dispatcher.state() + ")");
            }
            String adminKey;
            try (WharfClient client = new WharfClient(new Endpoints(kafka.bootstrapServers(), registry.confluentUrl()))) {
                adminKey = client.issueApiKey("default", true, "wharf dev").key(); // an admin key of the default tenant
            }
            metrics.watch("dispatcher", dispatcher);
            metrics.watch("worker", worker);
            metrics.watch("gateway", gateway);
            DevCluster cluster = new DevCluster(kafka, registry, dispatcher, worker, gateway, adminKey, stateDir, metrics, traces);
            if (writeEndpoints) {
                cluster.writeEndpoints();
            }
            return cluster;
        } catch (IOException | RuntimeException e) {
            // Whatever started is stopped, in the reverse order.
            if (gateway != null) {
                gateway.close();
            }
            if (worker != null) {
                worker.close();
            }
            if (dispatcher != null) {
                dispatcher.close();
            }
            if (registry != null) {
                registry.close();
            }
            kafka.close();
            metrics.close();
            Traces.close(traces);
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
        }
    }

    public Endpoints endpoints() {
        return new Endpoints(kafka.bootstrapServers(), registry.confluentUrl());
    }

    /**
     * The dispatcher's exactly-once commit interval here, which a fair relay baseline must share. 10 ms: hot jobs
     * p50 17.5 ms at 2,508 jobs/s, where 20 ms gave 30 ms at 2,615 jobs/s (once the dispatcher stopped committing
     * idle tasks; before, 10 ms cost a third of the throughput).
     */
    public static final long DISPATCHER_COMMIT_INTERVAL_MS = 10L;

    /** Where the gateway listens, e.g. http://127.0.0.1:8080. */
    public String gatewayUrl() {
        return gateway.url();
    }

    /** The process's meters, the ones its gateway serves at /metrics. */
    public io.micrometer.core.instrument.MeterRegistry meters() {
        return metrics.registry();
    }

    /** An admin key of the gateway, made at start. */
    public String adminKey() {
        return adminKey;
    }

    public String workerId() {
        return worker.workerId();
    }

    private void writeEndpoints() throws IOException {
        Path file = Endpoints.stateFile();
        Files.createDirectories(file.getParent());
        Properties props = new Properties();
        props.setProperty("bootstrap", kafka.bootstrapServers());
        props.setProperty("registry", registry.confluentUrl());
        props.setProperty("gateway", gateway.url());
        props.setProperty("apikey", adminKey);
        props.setProperty("pid", String.valueOf(ProcessHandle.current().pid()));
        Files.deleteIfExists(file);
        // It holds an admin key: readable by its owner only, from its first byte.
        Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, "Written by `wharf dev`; removed when it stops");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        gateway.close();
        worker.close();
        dispatcher.close();
        registry.close();
        kafka.close();
        metrics.close();
        Traces.close(traces);
        try {
            Path file = Endpoints.stateFile();
            Properties props = Endpoints.read(file);
            if (String.valueOf(ProcessHandle.current().pid()).equals(props.getProperty("pid"))) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // nothing to clean
        }
        TempDirs.delete(stateDir);
    }
}
