package io.wharf.dispatcher;

import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.streams.StreamsConfig;

import io.wharf.config.KafkaClientSettings;
import io.wharf.serde.AvroSerdeConfig;
import io.wharf.ops.Management;
import io.wharf.serde.RegistrySettings;
import io.wharf.topics.Topics;

/**
 * The dispatcher's settings. Every key is declared here with its type, default, check and meaning; Kafka client and
 * Kafka Streams settings (TLS, SASL, tuning) pass through (see {@link KafkaClientSettings}), under the settings the
 * dispatcher's guarantees depend on, which it sets itself.
 */
public final class DispatcherConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
    public static final String REGISTRY_URL_CONFIG = AvroSerdeConfig.REGISTRY_URL_CONFIG;
    public static final String APPLICATION_ID_CONFIG = "wharf.dispatcher.application.id";
    public static final String COMMIT_INTERVAL_MS_CONFIG = "wharf.dispatcher.commit.interval.ms";
    public static final String STATE_DIR_CONFIG = "wharf.dispatcher.state.dir";
    public static final String THREADS_CONFIG = "wharf.dispatcher.threads";
    public static final String TICK_MS_CONFIG = "wharf.dispatcher.tick.ms";
    public static final String DEDUPE_WINDOW_MS_CONFIG = "wharf.dispatcher.dedupe.window.ms";
    public static final String SESSION_TIMEOUT_MS_CONFIG = "wharf.dispatcher.session.timeout.ms";
    public static final String STARTUP_TIMEOUT_MS_CONFIG = "wharf.dispatcher.startup.timeout.ms";

    /** Where a dispatcher run as a process serves /metrics, /healthz and /readyz unless told otherwise. */
    public static final int MANAGEMENT_PORT = 9470;
    public static final String MANAGEMENT_HOST_CONFIG = Management.hostKey("dispatcher");
    public static final String MANAGEMENT_PORT_CONFIG = Management.portKey("dispatcher");

    private static final ConfigDef DEF = Management.define(RegistrySettings.define(new ConfigDef()), "dispatcher", MANAGEMENT_PORT)
            .define(BOOTSTRAP_SERVERS_CONFIG, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.ValidList.anyNonDuplicateValues(false, false), Importance.HIGH,
                    "Kafka brokers to bootstrap from, host:port[,host:port].")
            .define(APPLICATION_ID_CONFIG, Type.STRING, "wharf-dispatcher", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                    "Kafka Streams application id: instances with the same id share the work; it prefixes internal topics.")
            .define(COMMIT_INTERVAL_MS_CONFIG, Type.LONG, 100L, Range.between(1, 60_000), Importance.MEDIUM,
                    "Exactly-once commit interval. Jobs become visible to workers only when the task commits, so this is the "
                            + "dispatcher's latency floor; shorter means more transactions per second.")
            .define(STATE_DIR_CONFIG, Type.STRING, System.getProperty("java.io.tmpdir") + "/wharf-dispatcher", Importance.LOW,
                    "Directory of the local state stores.")
            .define(THREADS_CONFIG, Type.INT, 1, Range.between(1, 64), Importance.LOW, "Stream threads per instance.")
            .define(TICK_MS_CONFIG, Type.LONG, 10L, Range.between(1, 10_000), Importance.LOW,
                    "How often (wall clock) due timers fire and held-back jobs are released: the resolution of rate limits, "
                            + "retries, delays and schedules. A tick with nothing due costs one store seek per task.")
            .define(DEDUPE_WINDOW_MS_CONFIG, Type.LONG, DispatcherTopology.DEFAULT_DEDUPE_WINDOW.toMillis(), Range.between(0, 7L * 24 * 3600 * 1000),
                    Importance.MEDIUM,
                    "An event re-sent within this window (same function and idempotency key, or same event id when it has no "
                            + "key) becomes no second job: a re-send of the same id is dropped (the first job's result answers it), "
                            + "another id is REJECTED naming the first job. The dispatcher keeps one entry per event of the window "
                            + "in memory. 0 turns dedupe off.")
            .define(SESSION_TIMEOUT_MS_CONFIG, Type.INT, 10_000, Range.between(1000, 300_000), Importance.LOW,
                    "How long an instance that stopped heartbeating keeps its functions before another instance takes them over. "
                            + "Shorter moves work sooner after a crash; too short moves it during long GC pauses.")
            .define(STARTUP_TIMEOUT_MS_CONFIG, Type.LONG, 120_000L, Range.between(0, 3_600_000), Importance.LOW,
                    "How long start-up waits for the broker and the schema registry to answer (publishing the schemas, reading "
                            + "partition counts) before it fails: services started together may come up in any order.");

    private final KafkaClientSettings passThrough;

    /** @throws ConfigException naming a key that is missing, invalid, or neither a dispatcher, Streams nor Kafka client setting */
    public DispatcherConfig(Map<?, ?> props) {
        super(DEF, props, false);
        this.passThrough = new KafkaClientSettings(originals(), DEF, DispatcherConfig::streamsSetting);
    }

    /** Kafka Streams' own settings, and its prefixes for one of its clients or its internal topics. */
    private static boolean streamsSetting(String key) {
        return StreamsConfig.configDef().names().contains(key) || STREAMS_PREFIXES.stream().anyMatch(key::startsWith);
    }

    private static final List<String> STREAMS_PREFIXES = List.of(StreamsConfig.MAIN_CONSUMER_PREFIX, StreamsConfig.RESTORE_CONSUMER_PREFIX,
            StreamsConfig.GLOBAL_CONSUMER_PREFIX, StreamsConfig.TOPIC_PREFIX);

    public static ConfigDef configDef() {
        return DEF;
    }

    /** Where the schema registry is and how to authenticate to it. */
    public RegistrySettings registry() {
        return RegistrySettings.from(this);
    }

    /** The admin client's properties: where the cluster is. */
    Properties adminProperties() {
        return passThrough.properties(KafkaClientSettings.Kind.ADMIN, String.join(",", getList(BOOTSTRAP_SERVERS_CONFIG)));
    }

    /** {@code value} for the Streams producer's {@code key}, unless the settings give the key, bare or producer-prefixed. */
    private static void producerDefault(Properties props, String key, Object value) {
        if (!props.containsKey(key)) {
            props.putIfAbsent(StreamsConfig.producerPrefix(key), value);
        }
    }

    /** The Kafka Streams properties these settings imply. */
    Properties streamsProperties() {
        Properties props = new Properties();
        props.putAll(passThrough.all()); // Streams hands each client what is meant for it
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, getString(APPLICATION_ID_CONFIG));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", getList(BOOTSTRAP_SERVERS_CONFIG)));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, getLong(COMMIT_INTERVAL_MS_CONFIG));
        // A stream thread checks for a due commit only between polls: an idle poll longer than the commit
        // interval would hold finished work back (Streams' default poll.ms of 100 adds up to 100 ms per hop).
        props.put(StreamsConfig.POLL_MS_CONFIG, Math.min(100L, getLong(COMMIT_INTERVAL_MS_CONFIG)));
        props.put(StreamsConfig.STATE_DIR_CONFIG, getString(STATE_DIR_CONFIG));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, getInt(THREADS_CONFIG));
        props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), Topics.MAX_RECORD_BYTES);
        // Jobs are seen only once their transaction commits, and the commit sends what waits: records sent one by one
        // as they are made would cost the broker a produce request each.
        producerDefault(props, ProducerConfig.LINGER_MS_CONFIG, getLong(COMMIT_INTERVAL_MS_CONFIG));
        producerDefault(props, ProducerConfig.RETRY_BACKOFF_MS_CONFIG, KafkaClientSettings.TRANSACTIONAL_RETRY_BACKOFF_MS);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), Topics.MAX_RECORD_BYTES);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, ProcessingErrors.class.getName());
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, ProductionErrors.class.getName());
        RegistrySettings.define(new ConfigDef()).names().forEach(key -> { // for the handlers' dead-letter serializer
            if (get(key) != null) {
                props.put(key, get(key));
            }
        });
        int session = getInt(SESSION_TIMEOUT_MS_CONFIG);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), session);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), Math.max(100, session / 4));
        return props;
    }
}
