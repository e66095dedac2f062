package io.wharf.config;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Predicate;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Kafka client settings passed through a role's configuration, for what Wharf does not set itself: TLS, SASL,
 * client tuning. A key the Kafka clients know ({@code security.protocol}, {@code ssl.truststore.location},
 * {@code sasl.jaas.config}, ...) goes to every client of the role that knows it; {@code consumer.},
 * {@code producer.} and {@code admin.} aim a key at one kind of client. Any other key that is not one of the
 * role's own settings fails start-up naming it, so a typo is never silently ignored.
 */
public final class KafkaClientSettings {
    public enum Kind {
        CONSUMER("consumer.", ConsumerConfig.configDef()),
        PRODUCER("producer.", ProducerConfig.configDef()),
        ADMIN("admin.", AdminClientConfig.configDef());

        final String prefix;
        final ConfigDef def;
        final Set<String> names;

        Kind(String prefix, ConfigDef def) {
            this.prefix = prefix;
            this.def = def;
            this.names = def.names();
        }
    }

    /**
     * The retry backoff of Wharf's transactional producers unless the settings give one. A transaction's offset commit
     * that follows the previous commit by a few milliseconds is refused ({@code CONCURRENT_TRANSACTIONS}) while the
     * broker still writes that commit's markers; at the clients' default backoff of 100 ms every result of the next
     * transaction then waits 100 ms more. Retries still back off exponentially up to {@code retry.backoff.max.ms}.
     */
    public static final int TRANSACTIONAL_RETRY_BACKOFF_MS = 5;

    private final Map<String, Object> passed;

    /**
     * @param originals the role's settings as given
     * @param own       the role's own settings, which are not passed through
     * @param also      further keys the role accepts (a Kafka Streams role: Streams' own settings and prefixes)
     * @throws ConfigException naming the first key that is neither
     */
    public KafkaClientSettings(Map<String, ?> originals, ConfigDef own, Predicate<String> also) {
        Map<String, Object> passed = new HashMap<>();
        originals.forEach((key, value) -> {
            if (own.names().contains(key)) {
                return;
            }
            if (!also.test(key) && !known(key)) {
                throw new ConfigException(key, "(hidden)", "Neither a Wharf setting of this role nor a "
                        + "Kafka client setting" + Suggestions.closest(key, candidates(own)) + " Kafka client settings (security.protocol, "
                        + "ssl.*, sasl.*, ...) pass to every client; prefix one with consumer., producer. or admin. to aim it at one kind");
            }
            passed.put(key, value);
        });
        this.passed = Map.copyOf(passed);
    }

    private static Set<String> candidates(ConfigDef own) {
        Set<String> names = new HashSet<>(own.names());
        for (Kind kind : Kind.values()) {
            names.addAll(kind.names);
        }
        return names;
    }

    /**
     * True for a setting whose value is a secret (a password, a key, a JAAS configuration): of type PASSWORD in
     * {@code own} or in a Kafka client's settings, with or without its client prefix.
     */
    public static boolean isSecret(String key, ConfigDef own) {
        if (own.configKeys().containsKey(key)) {
            return own.configKeys().get(key).type == ConfigDef.Type.PASSWORD;
        }
        for (Kind kind : Kind.values()) {
            String bare = key.startsWith(kind.prefix) ? key.substring(kind.prefix.length()) : key;
            ConfigDef.ConfigKey def = kind.def.configKeys().get(bare);
            if (def != null && def.type == ConfigDef.Type.PASSWORD) {
                return true;
            }
        }
        return false;
    }

    private static boolean known(String key) {
        for (Kind kind : Kind.values()) {
            if (kind.names.contains(key) || (key.startsWith(kind.prefix) && kind.names.contains(key.substring(kind.prefix.length())))) {
                return true;
            }
        }
        return false;
    }

    /** For a role whose clients are all plain Kafka clients. */
    public KafkaClientSettings(Map<String, ?> originals, ConfigDef own) {
        this(originals, own, key -> false);
    }

    /** Everything passed through, as given (for Kafka Streams, which reads the prefixes itself). */
    public Map<String, Object> all() {
        return passed;
    }

    /** A client of {@code kind}'s properties: the pass-through settings, then where the cluster is (which wins). */
    public Properties properties(Kind kind, String bootstrapServers) {
        Properties props = new Properties();
        props.putAll(of(kind));
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return props;
    }

    /** The settings for one client of {@code kind}: the shared keys it knows, then its prefixed ones (which win). */
    public Map<String, Object> of(Kind kind) {
        Map<String, Object> props = new HashMap<>();
        passed.forEach((key, value) -> {
            if (kind.names.contains(key)) {
                props.put(key, value);
            }
        });
        passed.forEach((key, value) -> {
            if (key.startsWith(kind.prefix) && kind.names.contains(key.substring(kind.prefix.length()))) {
                props.put(key.substring(kind.prefix.length()), value);
            }
        });
        return props;
    }
}
