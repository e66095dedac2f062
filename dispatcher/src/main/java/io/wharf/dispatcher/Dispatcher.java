package io.wharf.dispatcher;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;

/** A dispatcher instance: the topology running in Kafka Streams. Start several with the same application id to share the work. */
public final class Dispatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final KafkaStreams streams;

    public Dispatcher(Map<String, ?> settings) {
        this(new DispatcherConfig(settings));
    }

    public Dispatcher(DispatcherConfig config) {
        this(config, new HttpSchemaRegistryClient(config.getString(DispatcherConfig.REGISTRY_URL_CONFIG)));
    }

    public Dispatcher(DispatcherConfig config, SchemaRegistryClient registry) {
        this.streams = new KafkaStreams(DispatcherTopology.build(registry,
                Duration.ofMillis(config.getLong(DispatcherConfig.TICK_MS_CONFIG))), config.streamsProperties());
        // A crashed stream thread is replaced; its task restarts from the last committed transaction.
        streams.setUncaughtExceptionHandler(e -> {
            log.error("Dispatcher stream thread failed; replacing it", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    }

    public Dispatcher start() {
        log.info("Dispatcher starting");
        streams.start();
        return this;
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** Waits until the instance has its tasks and is processing. */
    public boolean awaitRunning(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (streams.state() == KafkaStreams.State.RUNNING) {
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
    public void close() {
        log.info("Dispatcher stopping");
        streams.close(Duration.ofSeconds(30));
        log.info("Dispatcher stopped");
    }
}
