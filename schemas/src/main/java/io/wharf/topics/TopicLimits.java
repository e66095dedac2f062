package io.wharf.topics;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The largest record each of Wharf's topics takes ({@code max.message.bytes}, the topic's own or the broker's
 * default), read from the cluster when a role starts, so that every record Wharf writes is kept within it: a record
 * the broker refuses would fail its whole transaction. A topic whose limit could not be read counts as Kafka's
 * default.
 */
public final class TopicLimits {
    /** Kafka's default {@code message.max.bytes}. */
    public static final int KAFKA_DEFAULT = 1_048_588;
    /**
     * Room a record needs beyond its value: its key and headers and its batch's header. (A record larger than the
     * producer's {@code batch.size} travels in a batch of its own.)
     */
    public static final int ENVELOPE = 4 * 1024;

    /** Kafka's default {@code retention.ms}: seven days. */
    public static final long KAFKA_DEFAULT_RETENTION_MS = 7L * 24 * 3600 * 1000;

    private final Map<String, Integer> limits;
    private final int otherwise;
    private final Map<String, Long> retention;

    /** {@code otherwise}: the limit of a topic not in {@code limits}. */
    public TopicLimits(Map<String, Integer> limits, int otherwise) {
        this(limits, otherwise, Map.of());
    }

    private TopicLimits(Map<String, Integer> limits, int otherwise, Map<String, Long> retention) {
        this.limits = Map.copyOf(limits);
        this.otherwise = otherwise;
        this.retention = Map.copyOf(retention);
    }

    public TopicLimits(Map<String, Integer> limits) {
        this(limits, KAFKA_DEFAULT);
    }

    /** Every topic at Kafka's default limit. */
    public static TopicLimits kafkaDefaults() {
        return new TopicLimits(Map.of());
    }

    /** These limits, with {@code otherwise} for the topics they do not name (topics created later, say). */
    public TopicLimits otherwise(int otherwise) {
        return new TopicLimits(limits, otherwise, retention);
    }

    /**
     * Reads the record limits and retention of {@code topics}; topics it cannot read within {@code timeout} count as
     * Kafka's defaults.
     */
    public static TopicLimits read(Admin admin, Collection<String> topics, Duration timeout) throws InterruptedException {
        List<ConfigResource> resources = topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<String, Integer> limits = new HashMap<>();
        Map<String, Long> retention = new HashMap<>();
        try {
            Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            configs.forEach((resource, config) -> {
                ConfigEntry entry = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
                if (entry != null && entry.value() != null) {
                    limits.put(resource.name(), Integer.parseInt(entry.value()));
                }
                ConfigEntry kept = config.get(TopicConfig.RETENTION_MS_CONFIG);
                if (kept != null && kept.value() != null) {
                    long ms = Long.parseLong(kept.value());
                    retention.put(resource.name(), ms < 0 ? Long.MAX_VALUE : ms);
                }
            });
        } catch (ExecutionException | TimeoutException e) {
            // counted as Kafka's default below
        }
        return new TopicLimits(limits, KAFKA_DEFAULT, retention);
    }

    /** These limits, with {@code topic} keeping records for {@code millis}. */
    public TopicLimits withRetention(String topic, long millis) {
        Map<String, Long> kept = new HashMap<>(retention);
        kept.put(topic, millis);
        return new TopicLimits(limits, otherwise, kept);
    }

    /** How long the topic keeps a record ({@code retention.ms}; {@code Long.MAX_VALUE} for ever), Kafka's default if unread. */
    public long retentionMillis(String topic) {
        return retention.getOrDefault(topic, KAFKA_DEFAULT_RETENTION_MS);
    }

    /** The topic's {@code max.message.bytes}. */
    public int limit(String topic) {
        return limits.getOrDefault(topic, otherwise);
    }

    /** The largest record value Wharf writes to {@code topic}: its limit less the {@link #ENVELOPE}. */
    public int valueBudget(String topic) {
        return limit(topic) - ENVELOPE;
    }

    @Override
    public String toString() {
        return limits.toString();
    }
}
