package io.wharf.bench;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

import io.wharf.cli.DevCluster;
import io.wharf.cli.Wharf;
import io.wharf.config.KafkaClientSettings;
import io.wharf.topics.Topics;

/**
 * The bare baseline of Wharf's Kafka path, with the same hops and delivery settings and nothing else: a Kafka
 * Streams exactly-once copy (as the dispatcher: same commit interval) from {@code a} to {@code b}, then a
 * transactional consume-produce loop (as the worker: offsets sent in the transaction, commit per poll) from
 * {@code b} to {@code c}. Bench only.
 */
final class Relay implements AutoCloseable {
    final String a;
    final String b;
    final String c;
    private final KafkaStreams streams;
    private final Thread loop;
    private volatile boolean stop;
    private volatile boolean assigned;
    private final KafkaConsumer<byte[], byte[]> consumer;

    Relay(String bootstrap, long streamsCommitIntervalMs, java.nio.file.Path stateDir) {
        String id = UUID.randomUUID().toString().substring(0, 8);
        a = "relay-" + id + ".a";
        b = "relay-" + id + ".b";
        c = "relay-" + id + ".c";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Topics.ensure(admin, List.of(new NewTopic(a, DevCluster.PARTITIONS, (short) 1), new NewTopic(b, DevCluster.PARTITIONS, (short) 1),
                    new NewTopic(c, DevCluster.PARTITIONS, (short) 1)));
        }
        streams = copy(bootstrap, "relay-" + id, a, b, streamsCommitIntervalMs, stateDir);
        streams.start();

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "relay-loop-" + id);
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "relay-loop-" + id);
        pp.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        pp.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, KafkaClientSettings.TRANSACTIONAL_RETRY_BACKOFF_MS); // as the worker's
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());
        loop = Thread.ofPlatform().name("relay-" + id).start(() -> {
            producer.initTransactions();
            consumer.subscribe(List.of(b));
            try {
                while (!stop) {
                    ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                    assigned = !consumer.assignment().isEmpty();
                    if (records.isEmpty()) {
                        continue;
                    }
                    producer.beginTransaction();
                    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        producer.send(new ProducerRecord<>(c, r.key(), r.value()));
                        offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    }
                    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                    producer.commitTransaction();
                }
            } catch (WakeupException e) {
                // stopping
            } finally {
                producer.close(Duration.ofSeconds(2));
                consumer.close(Duration.ofSeconds(2));
            }
        });
    }

    /**
     * A Kafka Streams exactly-once copy from one topic to another with the dispatcher's delivery settings
     * (commit interval, poll bounded by it, no linger): the bare baseline of one dispatcher hop.
     */
    static KafkaStreams copy(String bootstrap, String applicationId, String from, String to, long commitIntervalMs, java.nio.file.Path stateDir) {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(from, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())).to(to, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        Properties sp = new Properties();
        sp.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        sp.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        sp.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        sp.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        sp.put(StreamsConfig.POLL_MS_CONFIG, Math.min(100L, commitIntervalMs)); // as the dispatcher
        sp.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        sp.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);
        sp.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), KafkaClientSettings.TRANSACTIONAL_RETRY_BACKOFF_MS);
        sp.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), Topics.MAX_RECORD_BYTES);
        sp.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), Topics.MAX_RECORD_BYTES);
        return new KafkaStreams(builder.build(), sp);
    }

    boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (streams.state() == KafkaStreams.State.RUNNING && assigned) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        consumer.wakeup();
        loop.join(10_000);
        streams.close(Duration.ofSeconds(10));
    }
}
