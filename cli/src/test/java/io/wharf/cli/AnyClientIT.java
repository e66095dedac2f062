package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.client.WharfClient;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.embedded.LocalImages;
import io.wharf.topics.TopicSchemas;
import io.wharf.topics.Topics;

/**
 * Wharf driven by clients that are not Wharf's own, as a new user would: schemas taken from the registry of a
 * fresh installation, events produced by {@code kcat} (librdkafka: CRC32 partitioner, explicit partitions, null
 * keys) and by a Python program on librdkafka, results read back with {@code read_committed}.
 */
class AnyClientIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path PYTHON_EXAMPLE = Path.of("..", "docs", "examples", "python", "invoke.py");
    private static DevCluster cluster;
    private static DevClusterFixture fixture;
    private static int partitions;

    @BeforeAll
    static void start() {
        fixture = DevClusterFixture.start();
        cluster = fixture.cluster;
        partitions = DevCluster.PARTITIONS;
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
    }

    private static String registryUrl() {
        String url = cluster.endpoints().registry();
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static JsonNode getJson(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(registryUrl() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static String deployCat(String name) {
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName(name).setImage(LocalImages.BUSYBOX).setMemoryMb(32).setCommand(List.of("cat")).build());
        }
        return name;
    }

    /** An event as a client without Wharf's classes writes it: the registry's latest schema, generic Avro, wire format. */
    private static byte[] foreignEvent(String id, String function, String payload) throws Exception {
        JsonNode latest = getJson("/subjects/" + TopicSchemas.valueSubject(Topics.EVENTS) + "/versions/latest");
        Schema schema = new Schema.Parser().parse(latest.path("schema").asText());
        GenericRecord event = new GenericRecordBuilder(schema)
                .set("id", id).set("function", function)
                .set("payload", ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)))
                .set("createdAt", System.currentTimeMillis())
                .build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(latest.path("id").asInt()).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema, GenericData.get()).write(event, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** Produces each value as one message with {@code kcat}: with the key if one is given, to the partition if one is given. */
    private static void kcat(String key, Integer partition, List<byte[]> values) throws Exception {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", cluster.endpoints().bootstrap(), "-P", "-t", Topics.EVENTS,
                "-X", "acks=all"));
        if (key != null) {
            command.addAll(List.of("-k", key));
        }
        if (partition != null) {
            command.addAll(List.of("-p", String.valueOf(partition)));
        }
        List<Path> files = new ArrayList<>();
        for (byte[] value : values) {
            Path file = Files.createTempFile("wharf-kcat-", ".avro");
            Files.write(file, value);
            files.add(file);
            command.add(file.toString());
        }
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("kcat finished").isTrue();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.exitValue()).as("kcat %s: %s", command, output).isZero();
        } finally {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
        }
    }

    /** librdkafka's default partitioner for a keyed message (consistent_random): CRC32 of the key. */
    private static int librdkafkaPartition(String key) {
        CRC32 crc = new CRC32();
        crc.update(key.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % partitions);
    }

    private static KafkaConsumer<String, byte[]> reader(String topic) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.endpoints().bootstrap());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "any-client-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    /** Every result for these job ids: waits for one each, then a little longer to see that no second one comes. */
    private static Map<String, List<JobResult>> results(Set<String> jobIds) {
        AvroDeserializer<JobResult> deserializer = new AvroDeserializer<>(new HttpSchemaRegistryClient(registryUrl()), JobResult.class);
        Map<String, List<JobResult>> byId = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = reader(Topics.RESULTS)) {
            Runnable poll = () -> consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                if (jobIds.contains(r.key())) {
                    byId.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(deserializer.deserialize(Topics.RESULTS, r.value()));
                }
            });
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ZERO).until(() -> {
                poll.run();
                return byId.keySet().containsAll(jobIds);
            });
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ZERO).until(() -> {
                poll.run();
                return true;
            });
        }
        return byId;
    }

    private static void assertSucceededOnce(Map<String, List<JobResult>> results, Map<String, String> payloads) {
        assertThat(results.keySet()).containsExactlyInAnyOrderElementsOf(payloads.keySet());
        results.forEach((id, list) -> {
            assertThat(list).as("results of job %s", id).hasSize(1);
            JobResult result = list.getFirst();
            assertThat(result.getStatus()).as("job %s: %s", id, result.getError()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo(payloads.get(id));
        });
    }

    @Test
    void shouldServeEveryClientSubjectFromTheRegistryAsWharfsOwnSerializerWritesIt() throws Exception {
        deployCat("any-schema-" + UUID.randomUUID().toString().substring(0, 8));

        JsonNode latest = getJson("/subjects/wharf.events-value/versions/latest");
        assertThat(new Schema.Parser().parse(latest.path("schema").asText())).isEqualTo(Event.getClassSchema());
        byte[] written = new AvroSerializer<Event>(new HttpSchemaRegistryClient(registryUrl())).serialize(Topics.EVENTS,
                Event.newBuilder().setId("x").setFunction("f").setCreatedAt(java.time.Instant.now()).build());
        assertThat(ByteBuffer.wrap(written, 1, 4).getInt()).as("schema id in Wharf's own bytes").isEqualTo(latest.path("id").asInt());

        for (TopicSchemas.Entry entry : TopicSchemas.ALL) {
            JsonNode version = getJson("/subjects/" + entry.subject() + "/versions/latest");
            assertThat(new Schema.Parser().parse(version.path("schema").asText())).as(entry.subject()).isEqualTo(entry.value());
            assertThat(getJson("/config/" + entry.subject()).path("compatibilityLevel").asText()).as(entry.subject()).isEqualTo("BACKWARD");
        }
    }

    @Test
    void shouldRunEventsFromKcatExactlyOnceWhateverPartitionTheyLandOn() throws Exception {
        String prefix = "any-kcat-" + UUID.randomUUID().toString().substring(0, 6) + "-";
        List<String> functions = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            functions.add(deployCat(prefix + i));
        }
        Set<String> misplaced = new HashSet<>();
        functions.stream().filter(f -> librdkafkaPartition(f) != Topics.partitionOf(f, partitions)).forEach(misplaced::add);
        assertThat(misplaced).as("names librdkafka puts on another partition than Java").isNotEmpty();

        Map<String, String> payloads = new HashMap<>();
        Map<String, String> functionOf = new HashMap<>();
        for (String function : functions) {
            String byPartitioner = UUID.randomUUID().toString();
            String byPartition = UUID.randomUUID().toString();
            String keyless = UUID.randomUUID().toString();
            payloads.put(byPartitioner, "default partitioner " + function);
            payloads.put(byPartition, "explicit partition " + function);
            payloads.put(keyless, "null key " + function);
            functionOf.put(byPartitioner, function);
            // librdkafka's default partitioner
            kcat(function, null, List.of(foreignEvent(byPartitioner, function, payloads.get(byPartitioner))));
            // a partition chosen at random
            kcat(function, ThreadLocalRandom.current().nextInt(partitions), List.of(foreignEvent(byPartition, function, payloads.get(byPartition))));
            // no key at all: routed by the function named inside
            kcat(null, null, List.of(foreignEvent(keyless, function, payloads.get(keyless))));
        }

        assertSucceededOnce(results(payloads.keySet()), payloads);

        // The events on the CRC32 partitions were the ones moved, each once.
        Map<String, Integer> moves = new HashMap<>();
        AvroDeserializer<Event> events = new AvroDeserializer<>(new HttpSchemaRegistryClient(registryUrl()), Event.class);
        try (KafkaConsumer<String, byte[]> consumer = reader(Topics.EVENTS)) {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ZERO).until(() -> {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    String id = events.deserialize(Topics.EVENTS, r.value()).getId();
                    if (functionOf.containsKey(id) && r.headers().lastHeader(Topics.REROUTED_HEADER) != null) {
                        moves.merge(functionOf.get(id), 1, Integer::sum);
                    }
                }
                return moves.keySet().equals(misplaced);
            });
        }
        assertThat(moves.values()).allMatch(n -> n == 1);
    }

    @Test
    void shouldRejectAnEventForAnUndeployedFunctionNamingItOnAnyPartition() throws Exception {
        String nobody = "any-nobody-" + UUID.randomUUID().toString().substring(0, 8);
        Set<String> ids = new HashSet<>();
        for (int partition = 0; partition < partitions; partition++) {
            String id = UUID.randomUUID().toString();
            ids.add(id);
            kcat(nobody, partition, List.of(foreignEvent(id, nobody, "x")));
        }
        results(ids).forEach((id, list) -> {
            assertThat(list).as("results of %s", id).hasSize(1);
            assertThat(list.getFirst().getStatus()).isEqualTo(JobStatus.REJECTED);
            assertThat(list.getFirst().getError()).contains("Unknown function '" + nobody + "'");
        });
    }

    @Test
    void shouldRunAFunctionFromPythonOnLibrdkafkaWithTheSchemaFromTheRegistry() throws Exception {
        String function = deployCat("any-python-" + UUID.randomUUID().toString().substring(0, 8));
        Process process = new ProcessBuilder("/usr/bin/python3", PYTHON_EXAMPLE.toString(), cluster.endpoints().bootstrap(), registryUrl(),
                function, "from python ✓", "90").redirectErrorStream(false).start();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the Python client finished").isTrue();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as("exit code; stdout %s; stderr %s (needs python3-confluent-kafka and python3-avro)", out, err).isZero();
        JsonNode result = JSON.readTree(out.lines().reduce((a, b) -> b).orElseThrow());
        assertThat(result.path("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(result.path("body").asText()).isEqualTo("from python ✓");
    }
}
