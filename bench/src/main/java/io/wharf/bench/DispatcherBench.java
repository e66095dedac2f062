package io.wharf.bench;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToLongFunction;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
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
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;

import io.wharf.cli.DevCluster;
import io.wharf.cli.Wharf;
import io.wharf.dispatcher.Dispatcher;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.RateLimit;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.SchemaRegistryProcess;
import io.wharf.embedded.TempDirs;
import io.wharf.topics.Topics;

/**
 * The dispatcher alone (no worker): events/s through validate + rate limit + route with exactly-once, and the
 * latency it adds from event to job record at a steady rate, each beside a bare Kafka Streams exactly-once copy
 * of the same bytes with the same commit interval, on the same embedded broker, in one run.
 */
final class DispatcherBench {
    private static final String POOL = "bench-dispatch";
    private static final int FUNCTIONS = 16;

    private final int events;
    private final int rate;
    private final int seconds;
    private final long commitMs;

    DispatcherBench(int events, int rate, int seconds, long commitMs) {
        this.events = events;
        this.rate = rate;
        this.seconds = seconds;
        this.commitMs = commitMs;
    }

    void run() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(); SchemaRegistryProcess registryProcess = SchemaRegistryProcess.start()) {
            String bootstrap = kafka.bootstrapServers();
            HttpSchemaRegistryClient registry = new HttpSchemaRegistryClient(registryProcess.confluentUrl());
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                Topics.ensure(admin, Topics.core(DevCluster.PARTITIONS, (short) 1, List.of(POOL)));
                Topics.ensure(admin, List.of(new NewTopic("bench.relay.in", DevCluster.PARTITIONS, (short) 1),
                        new NewTopic("bench.relay.out", DevCluster.PARTITIONS, (short) 1),
                        new NewTopic("bench.relay.in2", DevCluster.PARTITIONS, (short) 1),
                        new NewTopic("bench.relay.out2", DevCluster.PARTITIONS, (short) 1)));
            }
            AvroSerializer<FunctionSpec> specs = new AvroSerializer<>(registry);
            AvroSerializer<Event> eventWriter = new AvroSerializer<>(registry);
            try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
                for (int f = 0; f < 2 * FUNCTIONS; f++) {
                    // The first 16 with a limit far above the load (every event takes the token-bucket path, none
                    // waits), the next 16 without limits.
                    FunctionSpec spec = FunctionSpec.newBuilder().setName(function(f)).setImage("bench/none:1").setPool(POOL)
                            .setRateLimit(f < FUNCTIONS ? new RateLimit(1e9, 1_000_000_000) : null).build();
                    producer.send(new ProducerRecord<>(Topics.FUNCTIONS, spec.getName(), specs.serialize(Topics.FUNCTIONS, spec))).get();
                }
                // Throughput: a backlog of events, then the dispatcher (or the relay) drains it.
                List<ProducerRecord<String, byte[]>> backlog = new ArrayList<>();
                for (int i = 0; i < events; i++) {
                    backlog.add(new ProducerRecord<>(Topics.EVENTS, function(i % FUNCTIONS), eventWriter.serialize(Topics.EVENTS, event(i, Instant.now(), 0))));
                }
                backlog.forEach(producer::send);
                for (ProducerRecord<String, byte[]> r : backlog) {
                    producer.send(new ProducerRecord<>("bench.relay.in", r.key(), r.value()));
                }
                producer.flush();
            }
            Path state = Files.createTempDirectory("wharf-bench-dispatcher-");
            try {
                double relayRate;
                try (KafkaStreams relay = Relay.copy(bootstrap, "bench-relay-" + UUID.randomUUID(), "bench.relay.in", "bench.relay.out", commitMs, state.resolve("relay"));
                     KafkaConsumer<byte[], byte[]> out = fromStart(bootstrap, "bench.relay.out")) {
                    relay.start();
                    relayRate = drain(out, events);
                    relay.close(Duration.ofSeconds(10));
                }
                double wharfRate;
                Dispatcher dispatcher = new Dispatcher(Map.of(
                        DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                        DispatcherConfig.REGISTRY_URL_CONFIG, registryProcess.confluentUrl(),
                        DispatcherConfig.STATE_DIR_CONFIG, state.resolve("dispatcher").toString(),
                        DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs));
                try (KafkaConsumer<byte[], byte[]> out = fromStart(bootstrap, Topics.jobs(POOL))) {
                    dispatcher.start();
                    wharfRate = drain(out, events);
                }
                System.out.printf("Dispatcher throughput, %d events over %d functions (validate + rate limit + route, exactly-once, commit %d ms):%n",
                        events, FUNCTIONS, commitMs);
                System.out.printf("  bare Streams EOS copy %8.0f records/s%n  Wharf dispatcher      %8.0f events/s (%.2fx the copy)%n",
                        relayRate, wharfRate, wharfRate / relayRate);

                // Latency at a steady rate: event -> job record, beside the copy over the same bytes.
                AvroDeserializer<Job> jobs = new AvroDeserializer<>(registry, Job.class);
                List<Double> wharf;
                List<Double> unlimited;
                List<Double> moved;
                try (KafkaConsumer<byte[], byte[]> out = atEnd(bootstrap, Topics.jobs(POOL))) {
                    wharf = steady(bootstrap, Topics.EVENTS, 0, i -> eventWriter.serialize(Topics.EVENTS, event(i, Instant.now(), 0)), out,
                            r -> jobs.deserialize(r.topic(), r.value()).getEventCreatedAt().toEpochMilli());
                    unlimited = steady(bootstrap, Topics.EVENTS, FUNCTIONS, i -> eventWriter.serialize(Topics.EVENTS, event(i, Instant.now(), FUNCTIONS)), out,
                            r -> jobs.deserialize(r.topic(), r.value()).getEventCreatedAt().toEpochMilli());
                    moved = steady(bootstrap, Topics.EVENTS, FUNCTIONS, true, i -> eventWriter.serialize(Topics.EVENTS, event(i, Instant.now(), FUNCTIONS)), out,
                            r -> jobs.deserialize(r.topic(), r.value()).getEventCreatedAt().toEpochMilli());
                }
                dispatcher.close();
                List<Double> bare;
                try (KafkaStreams relay = Relay.copy(bootstrap, "bench-relay-" + UUID.randomUUID(), "bench.relay.in2", "bench.relay.out2", commitMs, state.resolve("relay2"));
                     KafkaConsumer<byte[], byte[]> out = atEnd(bootstrap, "bench.relay.out2")) {
                    relay.start();
                    awaitRunning(relay);
                    bare = steady(bootstrap, "bench.relay.in2", 0, i -> eventWriter.serialize(Topics.EVENTS, event(i, Instant.now(), 0)), out,
                            ConsumerRecord::timestamp);
                    relay.close(Duration.ofSeconds(10));
                }
                System.out.printf("Added latency, event -> job record at %d events/s for %d s (commit %d ms):%n", rate, seconds, commitMs);
                System.out.printf("  bare Streams EOS copy p50 %6.1f ms  p99 %6.1f ms%n", p(bare, 0.5), p(bare, 0.99));
                System.out.printf("  Wharf, rate-limited  p50 %6.1f ms  p99 %6.1f ms  (%.2fx / %.2fx)%n", p(wharf, 0.5), p(wharf, 0.99),
                        p(wharf, 0.5) / p(bare, 0.5), p(wharf, 0.99) / p(bare, 0.99));
                System.out.printf("  Wharf, no limits     p50 %6.1f ms  p99 %6.1f ms  (%.2fx / %.2fx)%n", p(unlimited, 0.5), p(unlimited, 0.99),
                        p(unlimited, 0.5) / p(bare, 0.5), p(unlimited, 0.99) / p(bare, 0.99));
                System.out.printf("  Wharf, no limits, on another partition (moved first)  p50 %6.1f ms  p99 %6.1f ms  (+%.1f / +%.1f ms over no limits)%n",
                        p(moved, 0.5), p(moved, 0.99), p(moved, 0.5) - p(unlimited, 0.5), p(moved, 0.99) - p(unlimited, 0.99));
            } finally {
                TempDirs.delete(state);
            }
        }
    }

    private static String function(int i) {
        return "bench-fn-" + i;
    }

    /** Event {@code i} for one of the 16 functions from {@code base}. */
    private static Event event(int i, Instant now, int base) {
        return Event.newBuilder().setId("bench-" + i + "-" + UUID.randomUUID()).setFunction(function(base + i % FUNCTIONS))
                .setPayload(ByteBuffer.wrap(("{\"n\":" + i + ",\"pad\":\"0123456789abcdef0123456789abcdef\"}").getBytes()))
                .setContentType("application/json").setCreatedAt(now).build();
    }

    /**
     * Records/s over the last 90% of the backlog: the first tenth (task start, state restoration, JIT warm-up)
     * is left out for both sides alike.
     */
    private static double drain(KafkaConsumer<byte[], byte[]> out, int n) {
        int seen = 0;
        int mark = n / 10;
        long from = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (seen < n && System.nanoTime() < deadline) {
            seen += out.poll(Duration.ofMillis(100)).count();
            if (from == 0 && seen >= mark) {
                from = System.nanoTime();
                mark = seen;
            }
        }
        if (seen < n) {
            throw new IllegalStateException("only " + seen + " of " + n + " records came out");
        }
        return (n - mark) / ((System.nanoTime() - from) / 1e9);
    }

    /** Sends {@code rate} records a second for {@code seconds} and returns each one's latency to the output, in ms. */
    private List<Double> steady(String bootstrap, String topic, int base, java.util.function.IntFunction<byte[]> value, KafkaConsumer<byte[], byte[]> out,
                                ToLongFunction<ConsumerRecord<byte[], byte[]>> sentAt) {
        return steady(bootstrap, topic, base, false, value, out, sentAt);
    }

    /**
     * As above; {@code misplaced} sends each record to the partition after its key's, as a client with another
     * partitioner would, so the dispatcher must move it first.
     */
    private List<Double> steady(String bootstrap, String topic, int base, boolean misplaced, java.util.function.IntFunction<byte[]> value,
                                KafkaConsumer<byte[], byte[]> out, ToLongFunction<ConsumerRecord<byte[], byte[]>> sentAt) {
        int n = rate * seconds;
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        Thread reader = Thread.ofPlatform().start(() -> {
            long deadline = System.nanoTime() + Duration.ofSeconds(seconds + 30L).toNanos();
            while (latencies.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : out.poll(Duration.ofMillis(50))) {
                    latencies.add((double) (System.currentTimeMillis() - sentAt.applyAsLong(r)));
                }
            }
        });
        try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                LockSupport.parkNanos(start + i * 1_000_000_000L / rate - System.nanoTime());
                String key = function(base + i % FUNCTIONS);
                Integer partition = misplaced ? (Topics.partitionOf(key, DevCluster.PARTITIONS) + 1) % DevCluster.PARTITIONS : null;
                producer.send(new ProducerRecord<>(topic, partition, key, value.apply(i)));
            }
        }
        try {
            reader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Double> settled = latencies.subList(Math.min(latencies.size(), rate), latencies.size()); // drop the first second
        if (latencies.size() < n) {
            throw new IllegalStateException("only " + latencies.size() + " of " + n + " records came out");
        }
        return new ArrayList<>(settled);
    }

    private static void awaitRunning(KafkaStreams streams) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static KafkaConsumer<byte[], byte[]> fromStart(String bootstrap, String topic) {
        KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap);
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    private static KafkaConsumer<byte[], byte[]> atEnd(String bootstrap, String topic) {
        KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap);
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        return consumer;
    }

    private static double p(List<Double> values, double q) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(q * sorted.size())));
    }
}
