package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;


import io.wharf.client.WharfClient;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerdeConfig;
import io.wharf.serde.AvroSerializer;
import io.wharf.embedded.LocalImages;
import io.wharf.topics.Topics;

/**
 * The whole path on real parts, as a user drives it: a plain KafkaProducer with Wharf's serde writes events,
 * the dispatcher turns them into jobs, the worker runs containers, results arrive on wharf.results.
 */
class EndToEndIT {
    private static DevCluster cluster;
    private static DevClusterFixture fixture;

    @BeforeAll
    static void start() {
        fixture = DevClusterFixture.start();
        cluster = fixture.cluster;
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
    }

    private static Map<String, Object> clientConfig() {
        return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.endpoints().bootstrap(),
                AvroSerdeConfig.REGISTRY_URL_CONFIG, cluster.endpoints().registry());
    }

    private static KafkaConsumer<String, byte[]> consumer(String topic) {
        Properties c = new Properties();
        c.putAll(clientConfig());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "e2e-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    private static void deploy(FunctionSpec spec) {
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(spec);
        }
    }

    /** Every record of {@code topic} whose key is one of {@code keys}, until there are {@code count}. */
    private static <T extends org.apache.avro.specific.SpecificRecord> List<T> readKeyed(String topic, List<String> keys, int count, AvroDeserializer<T> deserializer) {
        List<T> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(topic)) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (keys.contains(r.key())) {
                        found.add(deserializer.deserialize(topic, r.value()));
                    }
                });
                return found.size() >= count;
            });
            // And nothing more for those keys shortly after: one final result per job.
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (keys.contains(r.key())) {
                        found.add(deserializer.deserialize(topic, r.value()));
                    }
                });
                return found.size() == count;
            });
        }
        return found;
    }

    @Test
    void shouldTurnAnEventFromAPlainProducerIntoExactlyOneSucceededResult() throws Exception {
        String name = "e2e-echo-" + UUID.randomUUID().toString().substring(0, 8);
        deploy(FunctionSpec.newBuilder().setName(name).setImage(LocalImages.BUSYBOX).setMemoryMb(32)
                .setCommand(List.of("sh", "-c", "cat; echo; cat \"$PAYLOAD_FILE\"")).build());
        String jobId = UUID.randomUUID().toString();
        Map<String, Object> producerConfig = new java.util.HashMap<>(clientConfig());
        producerConfig.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producerConfig.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, AvroSerializer.class.getName());
        try (KafkaProducer<String, Event> producer = new KafkaProducer<>(producerConfig)) {
            producer.send(new ProducerRecord<>(Topics.EVENTS, name, Event.newBuilder().setId(jobId).setFunction(name)
                    .setPayload(ByteBuffer.wrap("ping ✓".getBytes(StandardCharsets.UTF_8))).setCreatedAt(Instant.now()).build())).get();
        }
        AvroDeserializer<JobResult> results = new AvroDeserializer<>();
        results.configure(clientConfig(), false);
        List<JobResult> found = readKeyed(Topics.RESULTS, List.of(jobId), 1, results);
        JobResult result = found.getFirst();
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("ping ✓\nping ✓");
        assertThat(result.getTimings().getEnqueuedAt()).isGreaterThanOrEqualTo(result.getTimings().getEventCreatedAt());
    }

    @Test
    void shouldRejectUnknownFunctionsAndUndecodableBytesAndGoOn() throws Exception {
        String name = "e2e-after-" + UUID.randomUUID().toString().substring(0, 8);
        deploy(FunctionSpec.newBuilder().setName(name).setImage(LocalImages.BUSYBOX).setMemoryMb(32).setCommand(List.of("cat")).build());
        String unknownId = UUID.randomUUID().toString();
        String goodId = UUID.randomUUID().toString();
        AvroSerializer<Event> serializer = new AvroSerializer<>();
        serializer.configure(clientConfig(), false);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.copyOf(clientConfig()), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.EVENTS, "nobody-deployed-me", serializer.serialize(Topics.EVENTS,
                    Event.newBuilder().setId(unknownId).setFunction("nobody-deployed-me").setCreatedAt(Instant.now()).build())));
            // Garbage on the function's own key, so it lands in the same partition as the good event after it.
            producer.send(new ProducerRecord<>(Topics.EVENTS, name, "this is not avro".getBytes(StandardCharsets.UTF_8)));
            producer.send(new ProducerRecord<>(Topics.EVENTS, name, serializer.serialize(Topics.EVENTS,
                    Event.newBuilder().setId(goodId).setFunction(name).setPayload(ByteBuffer.wrap("still here".getBytes()))
                            .setCreatedAt(Instant.now()).build()))).get();
        }
        AvroDeserializer<JobResult> results = new AvroDeserializer<>();
        results.configure(clientConfig(), false);
        List<JobResult> byId = readKeyed(Topics.RESULTS, List.of(unknownId, goodId), 2, results);
        assertThat(byId).anySatisfy(r -> {
            assertThat(r.getJobId()).isEqualTo(unknownId);
            assertThat(r.getStatus()).isEqualTo(JobStatus.REJECTED);
            assertThat(r.getError()).contains("Unknown function 'nobody-deployed-me'");
        });
        assertThat(byId).anySatisfy(r -> {
            assertThat(r.getJobId()).isEqualTo(goodId);
            assertThat(r.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(r.getBody()).toString()).isEqualTo("still here");
        });

        AvroDeserializer<DeadLetter> letters = new AvroDeserializer<>();
        letters.configure(clientConfig(), false);
        List<DeadLetter> dead = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(Topics.DLQ)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> dead.add(letters.deserialize(Topics.DLQ, r.value())));
                return dead.stream().anyMatch(d -> d.getId().equals(unknownId))
                        && dead.stream().anyMatch(d -> name.equals(d.getFunction()) && d.getReason().contains("could not be decoded"));
            });
        }
        DeadLetter garbage = dead.stream().filter(d -> name.equals(d.getFunction())).findFirst().orElseThrow();
        assertThat(garbage.getOriginalValue()).isEqualTo(ByteBuffer.wrap("this is not avro".getBytes(StandardCharsets.UTF_8)));
        assertThat(garbage.getReason()).contains("magic byte 0");
    }
}
