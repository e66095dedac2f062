package io.wharf.sources;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import com.github.dockerjava.api.DockerClient;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.dispatcher.Dispatcher;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.ops.Telemetry;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.serde.AvroDeserializer;
import io.wharf.testkit.SharedServices;
import io.wharf.topics.Topics;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.Worker;
import io.wharf.worker.WorkerConfig;

/**
 * What the sources' integration tests run against, once per test JVM: the shared broker and registry, a dispatcher
 * and a worker with 4 slots. Each test starts its own sources instances, on its own topics and functions.
 */
final class SourcesStack {
    private static SourcesStack shared;

    final String bootstrap = SharedServices.kafka().bootstrapServers();
    final String registry = SharedServices.registry().confluentUrl();
    final String suffix = UUID.randomUUID().toString().substring(0, 6);
    final WharfClient client;
    final DockerClient docker = DockerEngine.client();
    final String image = LocalImages.busybox(docker);
    final String hotEcho = LocalImages.hotEcho(docker);
    private final Dispatcher dispatcher;
    private final Worker worker;
    private final Path state;

    private SourcesStack() throws IOException {
        client = new WharfClient(new Endpoints(bootstrap, registry));
        try (Admin admin = client.admin()) {
            Topics.ensure(admin, Topics.core(4, (short) 1, List.of(Topics.DEFAULT_POOL)));
        }
        state = Files.createTempDirectory("wharf-sources-it-");
        dispatcher = new Dispatcher(Map.of(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, DispatcherConfig.REGISTRY_URL_CONFIG, registry,
                DispatcherConfig.STATE_DIR_CONFIG, state.toString(), DispatcherConfig.APPLICATION_ID_CONFIG, "sources-it-" + suffix,
                DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, 10), new Telemetry(new SimpleMeterRegistry(), io.opentelemetry.api.OpenTelemetry.noop())).start();
        worker = new Worker(Map.of(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, WorkerConfig.REGISTRY_URL_CONFIG, registry,
                WorkerConfig.ID_CONFIG, "sources-it-" + suffix, WorkerConfig.SLOTS_CONFIG, 4),
                new Telemetry(new SimpleMeterRegistry(), io.opentelemetry.api.OpenTelemetry.noop())).start();
    }

    static synchronized SourcesStack shared() throws IOException {
        if (shared == null) {
            shared = new SourcesStack();
            SourcesStack started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "wharf-sources-stack-stopper"));
        }
        return shared;
    }

    /** The committed records of a Wharf topic whose values decode as {@code type} and pass {@code which}. */
    <T extends org.apache.avro.specific.SpecificRecord> List<T> all(String topic, Class<T> type, Predicate<T> which) {
        return read(topic, type, which);
    }

    /** A sources instance of its own on this cluster; file triggers may watch the system's temporary directory. */
    Sources startSources(String id) {
        return new Sources(Map.of(SourcesConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, SourcesConfig.REGISTRY_URL_CONFIG, registry,
                SourcesConfig.ID_CONFIG, id, SourcesConfig.FILE_ROOTS_CONFIG, System.getProperty("java.io.tmpdir"))).start();
    }

    /** A unique function name with {@code prefix}: a hot function whose result is its payload. */
    String deployEcho(String prefix) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
        client.deploy(FunctionSpec.newBuilder().setName(name).setImage(hotEcho).setMemoryMb(64).setTimeoutMillis(20_000)
                .setHot(HotSettings.newBuilder().setIdleTtlMillis(60_000).setMaxJobsPerContainer(100_000).setPrewarm(0).build()).build());
        return name;
    }

    /** A unique function name with {@code prefix}, running {@code script} in busybox for each job. */
    String deployScript(String prefix, String script) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
        client.deploy(FunctionSpec.newBuilder().setName(name).setImage(image).setMemoryMb(64).setTimeoutMillis(20_000)
                .setCommand(List.of("sh", "-c", script)).build());
        return name;
    }

    /** A new topic of the user's. */
    String topic(String prefix, int partitions) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
        try (Admin admin = client.admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return name;
    }

    /** Writes {@code records} (key, value) to {@code topic}, spread over its partitions by key. */
    void produce(String topic, List<Map.Entry<String, byte[]>> records) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (Map.Entry<String, byte[]> record : records) {
                producer.send(new ProducerRecord<>(topic, record.getKey() == null ? null : record.getKey().getBytes(), record.getValue()));
            }
        }
    }

    /** Every committed record of a Wharf topic whose value decodes as {@code type} and passes {@code which}, from its start. */
    <T extends org.apache.avro.specific.SpecificRecord> List<T> read(String topic, Class<T> type, Predicate<T> which) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_RECORD_BYTES);
        AvroDeserializer<T> values = new AvroDeserializer<>(io.wharf.serde.SchemaRegistryClients.forSettings(
                WharfClient.registrySettings(registry, Map.of())), type);
        List<T> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = new HashMap<>(consumer.endOffsets(partitions));
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.value() != null) {
                        T value = values.deserialize(topic, record.value());
                        if (which.test(value)) {
                            out.add(value);
                        }
                    }
                }
            }
        }
        return out;
    }

    private void close() {
        worker.close();
        dispatcher.close();
        client.close();
        try {
            docker.close();
        } catch (IOException e) {
            // the JVM is ending
        }
        TempDirs.delete(state);
    }
}
