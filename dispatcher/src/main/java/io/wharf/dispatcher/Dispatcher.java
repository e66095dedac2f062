package io.wharf.dispatcher;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;

/**
 * A dispatcher instance: the topology running in Kafka Streams. Start several with the same application id to
 * share the work. {@link #start()} first publishes the schemas clients use and reads the partition counts (see
 * {@link Startup}), so a client may fetch a subject from the registry as soon as a dispatcher reports running.
 */
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final DispatcherConfig config;
    private final SchemaRegistryClient registry;
    private volatile KafkaStreams streams;

    public Dispatcher(Map<String, ?> settings) {
        this(new DispatcherConfig(settings));
    }

    public Dispatcher(DispatcherConfig config) {
        this(config, new HttpSchemaRegistryClient(config.getString(DispatcherConfig.REGISTRY_URL_CONFIG)));
    }

    public Dispatcher(DispatcherConfig config, SchemaRegistryClient registry) {
        this.config = config;
        this.registry = registry;
    }

    /**
     * Publishes the schemas, reads the partition counts and starts processing.
     *
     * @throws IllegalStateException if the broker or registry did not answer within the start-up timeout, or Wharf's
     *                               topics are missing or partitioned apart; the message says which and how to fix it
     */
    public synchronized Dispatcher start() {
        if (streams != null) {
            return this;
        }
        log.info("Dispatcher starting");
        Startup startup = new Startup(Duration.ofMillis(config.getLong(DispatcherConfig.STARTUP_TIMEOUT_MS_CONFIG)));
        startup.publishSchemas(registry);
        Map<String, Integer> partitions;
        try (Admin admin = Admin.create(config.adminProperties())) {
            partitions = startup.partitions(admin, String.join(",", config.getList(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG)));
        }
        KafkaStreams created = new KafkaStreams(DispatcherTopology.build(registry,
                Duration.ofMillis(config.getLong(DispatcherConfig.TICK_MS_CONFIG)), partitions), config.streamsProperties());
        // A crashed stream thread is replaced; its task restarts from the last committed transaction.
        created.setUncaughtExceptionHandler(e -> {
            log.error("Dispatcher stream thread failed; replacing it", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        created.start();
        streams = created;
        return this;
    }

    public KafkaStreams.State state() {
        KafkaStreams current = streams;
        return current == null ? KafkaStreams.State.CREATED : current.state();
    }

    /** Waits until the instance has its tasks and is processing. */
    public boolean awaitRunning(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (state() == KafkaStreams.State.RUNNING) {
                return true;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    @Override
    public synchronized void close() {
        KafkaStreams current = streams;
        if (current == null) {
            return;
        }
        log.info("Dispatcher stopping");
        current.close(Duration.ofSeconds(30));
        log.info("Dispatcher stopped");
    }
}
