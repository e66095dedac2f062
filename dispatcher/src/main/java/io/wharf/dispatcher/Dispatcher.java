package io.wharf.dispatcher;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.wharf.dispatcher.internals.DispatcherMeters;
import io.wharf.ops.Role;
import io.wharf.ops.Telemetry;
import io.wharf.topics.TopicLimits;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;

/**
 * A dispatcher instance: the topology running in Kafka Streams. Start several with the same application id to
 * share the work. {@link #start()} first publishes the schemas clients use and reads the partition counts (see
 * {@link Startup}), so a client may fetch a subject from the registry as soon as a dispatcher reports running.
 */
public final class Dispatcher implements Role {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final DispatcherConfig config;
    private final SchemaRegistryClient registry;
    private volatile KafkaStreams streams;
    private volatile boolean startFailed;
    private volatile boolean closing;
    private final DispatcherMeters meters;
    private final io.opentelemetry.api.trace.Tracer tracer;
    private KafkaStreamsMetrics streamsMetrics;

    public Dispatcher(Map<String, ?> settings) {
        this(settings, Telemetry.none());
    }

    /** A dispatcher recording its meters (see {@link DispatcherMeters}) and spans in {@code telemetry}. */
    public Dispatcher(Map<String, ?> settings, Telemetry telemetry) {
        this(new DispatcherConfig(settings), telemetry);
    }

    public Dispatcher(DispatcherConfig config, Telemetry telemetry) {
        this(config, new HttpSchemaRegistryClient(config.registry()), telemetry);
    }

    public Dispatcher(DispatcherConfig config, SchemaRegistryClient registry, Telemetry telemetry) {
        this.config = config;
        this.registry = registry;
        this.meters = new DispatcherMeters(telemetry.meters());
        this.tracer = telemetry.tracer("dispatcher");
    }

    /**
     * Publishes the schemas, reads the partition counts and starts processing.
     *
     * @throws IllegalStateException if the broker or registry did not answer within the start-up timeout, or Wharf's
     *                               topics are missing or partitioned apart; the message says which and how to fix it
     */
    @Override
    public synchronized Dispatcher start() {
        if (streams != null) {
            return this;
        }
        log.info("Dispatcher starting");
        Map<String, Integer> partitions;
        TopicLimits limits;
        try {
            Startup startup = new Startup(Duration.ofMillis(config.getLong(DispatcherConfig.STARTUP_TIMEOUT_MS_CONFIG)));
            startup.publishSchemas(registry);
            try (Admin admin = Admin.create(config.adminProperties())) {
                partitions = startup.partitions(admin, String.join(",", config.getList(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG)));
                limits = startup.limits(admin);
            }
        } catch (RuntimeException e) {
            startFailed = true;
            throw e;
        }
        KafkaStreams created = new KafkaStreams(DispatcherTopology.build(registry,
                Duration.ofMillis(config.getLong(DispatcherConfig.TICK_MS_CONFIG)), partitions, limits,
                Duration.ofMillis(config.getLong(DispatcherConfig.DEDUPE_WINDOW_MS_CONFIG)), meters, tracer), config.streamsProperties());
        // A crashed stream thread is replaced, after a pause; its task restarts from the last committed transaction.
        created.setUncaughtExceptionHandler(new StreamFailures(() -> closing));
        created.setStateListener((now, before) -> {
            log.info("Dispatcher {} (was {})", of(now), of(before));
            if (now == KafkaStreams.State.RUNNING) {
                // What this instance owns after a rebalance: an operator scaling dispatchers sees the work move.
                log.info("Dispatcher assigned {}", created.metadataForLocalThreads().stream()
                        .flatMap(thread -> thread.activeTasks().stream()).map(task -> task.taskId() + " " + task.topicPartitions()).toList());
            }
        });
        streamsMetrics = new KafkaStreamsMetrics(created);
        streamsMetrics.bindTo(meters.registry());
        created.start();
        streams = created;
        return this;
    }

    /** Ready when Kafka Streams runs its tasks: {@code RUNNING}, not rebalancing or restoring its stores. */
    @Override
    public List<Check> readiness() {
        KafkaStreams current = streams;
        KafkaStreams.State now = current == null ? null : current.state();
        return List.of(new Check("streams", now == KafkaStreams.State.RUNNING, now == null ? "not started" : "Kafka Streams is " + now));
    }

    @Override
    public State state() {
        KafkaStreams current = streams;
        return current == null ? (startFailed ? State.FAILED : State.CREATED) : of(current.state());
    }

    private static State of(KafkaStreams.State state) {
        return switch (state) {
            case CREATED -> State.STARTING;
            case REBALANCING, RUNNING -> State.RUNNING;
            case PENDING_SHUTDOWN -> State.STOPPING;
            case NOT_RUNNING -> State.STOPPED;
            case PENDING_ERROR, ERROR -> State.FAILED;
        };
    }

    /** Waits until the instance has its tasks and is processing (rebalancing counts as running). */
    public boolean awaitRunning(Duration timeout) {
        return awaitState(timeout, s -> s == State.RUNNING && streams.state() == KafkaStreams.State.RUNNING);
    }

    /** Waits until the instance stopped or failed; true if it did within {@code timeout}. */
    @Override
    public boolean awaitStop(Duration timeout) {
        return awaitState(timeout, State::ended);
    }

    private boolean awaitState(Duration timeout, java.util.function.Predicate<State> reached) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!reached.test(state())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized void close() {
        KafkaStreams current = streams;
        if (current == null) {
            return;
        }
        closing = true;
        if (!current.close(Duration.ofSeconds(30))) {
            log.warn("Dispatcher did not stop within 30 s; its tasks restart from their last commit wherever they run next");
        }
        streamsMetrics.close();
    }
}
