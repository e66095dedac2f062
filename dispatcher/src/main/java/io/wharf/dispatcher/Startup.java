package io.wharf.dispatcher;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.TopicSchemas;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;

/**
 * What the dispatcher does before it starts processing: publish the schemas clients write and read, and learn
 * the partition counts that tell where each function's records belong. Both wait for a broker or registry
 * that is still starting (as in a compose stack), up to the start-up timeout; what cannot be fixed by waiting
 * (a schema the registry refuses, missing or mismatched topics) fails at once with the fix.
 */
final class Startup {
    private static final Logger log = LoggerFactory.getLogger(Startup.class);
    /** Inputs that must share one partition count: a function's spec, events and attempts meet in one task. */
    static final List<String> CO_PARTITIONED = List.of(Topics.FUNCTIONS, Topics.EVENTS, Topics.ATTEMPTS);
    private static final Duration RETRY = Duration.ofMillis(500);

    private final Duration timeout;

    Startup(Duration timeout) {
        this.timeout = timeout;
    }

    /** Registers every subject of {@link TopicSchemas} (idempotent) and returns them. */
    List<String> publishSchemas(SchemaRegistryClient registry) {
        List<String> subjects = waitFor("the schema registry", () -> {
            try {
                return TopicSchemas.registerAll(registry);
            } catch (SchemaRegistryException e) {
                if (e.unavailable()) {
                    throw new Retry(e.getMessage());
                }
                throw e;
            }
        });
        log.info("Schemas published: {}", String.join(", ", subjects));
        return subjects;
    }

    /**
     * The record limits of the topics the dispatcher writes jobs, results and dead letters to; a pool's job topic made
     * after start counts as {@code wharf.events}, made the same way.
     */
    TopicLimits limits(Admin admin) {
        try {
            Set<String> topics = new java.util.TreeSet<>(admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            topics.removeIf(t -> !t.startsWith(Topics.JOBS_PREFIX) && !List.of(Topics.EVENTS, Topics.RESULTS, Topics.DLQ, Topics.ATTEMPTS,
                    Topics.TENANT_ADMISSION).contains(t));
            TopicLimits limits = TopicLimits.read(admin, topics, timeout);
            limits = limits.otherwise(limits.limit(Topics.EVENTS));
            log.info("Records are kept within these topics' max.message.bytes: {}", limits);
            return limits;
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Could not read the topics' record limits ({}); assuming Kafka's default", e.toString());
            return TopicLimits.kafkaDefaults();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while reading the topics' record limits", e);
        }
    }

    /** The partition counts of the topics whose records the dispatcher places by key. */
    Map<String, Integer> partitions(Admin admin, String bootstrap) {
        List<String> topics = List.of(Topics.FUNCTIONS, Topics.EVENTS, Topics.ATTEMPTS, Topics.SCHEDULES);
        Map<String, TopicDescription> found = waitFor("the Kafka cluster at " + bootstrap, () -> {
            try {
                return admin.describeTopics(topics).allTopicNames().get(RETRY.toMillis() * 4, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    throw new IllegalStateException("Wharf's topics are missing on " + bootstrap + " (" + e.getCause().getMessage()
                            + "): create them before starting the dispatcher (Topics.core; `wharf dev` does it), with one partition "
                            + "count for " + String.join(", ", CO_PARTITIONED), e.getCause());
                }
                throw new Retry(String.valueOf(e.getCause()));
            } catch (TimeoutException e) {
                throw new Retry("no answer");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while reading Wharf's topics", e);
            }
        });
        Map<String, Integer> counts = new LinkedHashMap<>();
        topics.forEach(topic -> counts.put(topic, found.get(topic).partitions().size()));
        Set<Integer> coCounts = Set.copyOf(CO_PARTITIONED.stream().map(counts::get).toList());
        if (coCounts.size() > 1) {
            throw new IllegalStateException("Partition counts differ: " + counts + ". " + String.join(", ", CO_PARTITIONED)
                    + " are all keyed by function name and read by one task per partition, so they need the same count: "
                    + "add partitions to the smaller ones (kafka-topics --alter --partitions N)");
        }
        log.info("Partition counts {}", counts);
        return counts;
    }

    private <T> T waitFor(String what, Supplier<T> step) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean said = false;
        while (true) {
            try {
                return step.get();
            } catch (Retry e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("The dispatcher could not start: " + what + " did not answer within "
                            + timeout.toMillis() + " ms (" + DispatcherConfig.STARTUP_TIMEOUT_MS_CONFIG + "): " + e.getMessage());
                }
                if (!said) {
                    log.warn("Waiting for {} ({})", what, e.getMessage());
                    said = true;
                }
                try {
                    Thread.sleep(RETRY.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while waiting for " + what, interrupted);
                }
            }
        }
    }

    /** A step that may succeed if tried again later. */
    private static final class Retry extends RuntimeException {
        Retry(String message) {
            super(message, null, false, false);
        }
    }
}
