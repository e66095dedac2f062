package io.wharf.sources.spi;

import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import io.wharf.config.KafkaClientSettings;
import io.wharf.topics.RoleAcls;
import io.wharf.topics.Topics;

/**
 * The Kafka clients of one trigger: a consumer in the trigger's group, and a transactional producer that sends its
 * events and commits the consumer's offsets in one transaction (read-process-write), fenced by the group's generation.
 */
public final class TriggerClients {
    private final KafkaClientSettings kafka;
    private final String bootstrap;
    private final String instance;

    public TriggerClients(KafkaClientSettings kafka, String bootstrap, String instance) {
        this.kafka = kafka;
        this.bootstrap = bootstrap;
        this.instance = instance;
    }

    /** Reads committed records only (a source topic may be written in transactions), committing nothing itself. */
    public Properties consumer(String group, boolean fromEnd) {
        Properties c = kafka.properties(KafkaClientSettings.Kind.CONSUMER, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromEnd ? "latest" : "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, group + "-" + instance);
        return c;
    }

    /** An idempotent producer, not transactional: for a source that keeps its position elsewhere than a consumer group. */
    public Properties plainProducer(String trigger) {
        Properties p = kafka.properties(KafkaClientSettings.Kind.PRODUCER, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_RECORD_BYTES);
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, RoleAcls.TRIGGER_PREFIX + trigger + "-" + instance);
        return p;
    }

    /** The Kafka settings of an embedded Kafka Connect engine (its offset store): where the cluster is, TLS, SASL. */
    public Properties connectSettings() {
        Properties p = new Properties();
        p.putAll(kafka.all());
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    /** A transactional producer of this instance for the trigger: one per trigger and instance. */
    public Properties producer(String trigger) {
        Properties p = kafka.properties(KafkaClientSettings.Kind.PRODUCER, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, RoleAcls.TRIGGER_PREFIX + trigger + "-" + instance);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_RECORD_BYTES);
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, KafkaClientSettings.TRANSACTIONAL_RETRY_BACKOFF_MS);
        return p;
    }
}
