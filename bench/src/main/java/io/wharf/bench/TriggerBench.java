package io.wharf.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.LongSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.wharf.cli.DevCluster;
import io.wharf.client.Endpoints;
import io.wharf.client.Triggers;
import io.wharf.client.WharfClient;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.SchemaRegistryProcess;
import io.wharf.records.FunctionSpec;
import io.wharf.sources.Sources;
import io.wharf.sources.SourcesConfig;
import io.wharf.topics.Topics;

/**
 * Topic triggers alone (no dispatcher, no worker): records/s from a topic into events on {@code wharf.events}, each
 * record one event in a read-process-write transaction, beside a bare consume-produce transactional copy of the same
 * records (same poll loop, same producer settings, offsets sent to the transaction), on the same embedded broker, in
 * one run. Each rate is taken from 10 % to 100 % of the records, past the group's first join.
 */
final class TriggerBench {
    private static final String FUNCTION = "bench-trigger";

    private final int records;

    TriggerBench(int records) {
        this.records = records;
    }

    void run() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(); SchemaRegistryProcess registry = SchemaRegistryProcess.start()) {
            String bootstrap = kafka.bootstrapServers();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                Topics.ensure(admin, Topics.core(DevCluster.PARTITIONS, (short) 1, List.of(Topics.DEFAULT_POOL)));
                Topics.ensure(admin, List.of(new NewTopic("bench.orders", DevCluster.PARTITIONS, (short) 1),
                        new NewTopic("bench.copy", DevCluster.PARTITIONS, (short) 1)));
            }
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.LINGER_MS_CONFIG, 5), new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < records; i++) {
                    String value = "{\"order\": " + i + ", \"customer\": \"c-" + (i % 997) + "\", \"total\": " + (i % 500) + ".25, \"items\": [\"a\", \"b\"]}";
                    producer.send(new ProducerRecord<>("bench.orders", ("c-" + (i % 997)).getBytes(StandardCharsets.UTF_8),
                            value.getBytes(StandardCharsets.UTF_8)));
                }
            }
            double copy;
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                Thread copier = Thread.ofPlatform().name("bench-copy").start(() -> copy(bootstrap));
                copy = rate(() -> ends(admin, "bench.copy"));
                copier.join();

                long before = ends(admin, Topics.EVENTS);
                double trigger;
                try (WharfClient client = new WharfClient(new Endpoints(bootstrap, registry.confluentUrl()))) {
                    client.deploy(FunctionSpec.newBuilder().setName(FUNCTION).setImage("bench/none:1").build());
                    client.triggers().create(Triggers.topicTrigger("bench-orders", FUNCTION, "default", "bench.orders", "json", "earliest", 1,
                            Duration.ofSeconds(1), "key"));
                    try (Sources sources = new Sources(Map.of(SourcesConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                            SourcesConfig.REGISTRY_URL_CONFIG, registry.confluentUrl())).start()) {
                        trigger = rate(() -> ends(admin, Topics.EVENTS) - before);
                    }
                }
                System.out.printf("Topic trigger throughput, %d JSON records of ~90 bytes over %d partitions (one event each, exactly-once):%n",
                        records, DevCluster.PARTITIONS);
                System.out.printf("  bare transactional consume-produce copy %8.0f records/s%n  Wharf topic trigger                     %8.0f records/s (%.0f %% of the copy)%n",
                        copy, trigger, 100 * trigger / copy);
            }
        }
    }

    /** Records/s from 10 % to all of {@link #records} written, as {@code written} counts them. */
    private double rate(LongSupplier written) throws InterruptedException {
        long from = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            long n = written.getAsLong();
            if (from == 0 && n >= records / 10) {
                from = System.nanoTime();
            }
            if (n >= records) {
                return 0.9 * records / ((System.nanoTime() - from) / 1e9);
            }
            Thread.sleep(20); // a sampling interval, not a wait for a condition: 20 ms in runs of seconds
        }
        throw new IllegalStateException("Not all " + records + " records were written within 10 minutes");
    }

    /** The committed end of {@code topic}: records a read_committed consumer sees. */
    private static long ends(Admin admin, String topic) {
        try {
            Map<TopicPartition, OffsetSpec> ask = new java.util.HashMap<>();
            admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
                    .forEach(p -> ask.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            return admin.listOffsets(ask, new org.apache.kafka.clients.admin.ListOffsetsOptions(org.apache.kafka.common.IsolationLevel.READ_COMMITTED))
                    .all().get().values().stream().mapToLong(o -> o.offset()).sum();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The baseline: the trigger's loop without Wharf, copying each record's bytes in a transaction with its offsets. */
    private void copy(String bootstrap) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-copy-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-copy-" + UUID.randomUUID());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 5);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            consumer.subscribe(List.of("bench.orders"));
            long copied = 0;
            while (copied < records) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(200));
                if (batch.isEmpty()) {
                    continue;
                }
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new java.util.HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    producer.send(new ProducerRecord<>("bench.copy", r.key(), r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
                copied += batch.count();
            }
        }
    }
}
