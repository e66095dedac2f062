package io.wharf.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.cli.DevCluster;
import io.wharf.client.Triggers;
import io.wharf.client.WharfClient;
import io.wharf.embedded.LocalImages;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryClients;
import io.wharf.testkit.Postgres;
import io.wharf.topics.Topics;

/**
 * Change-to-job latency of a database trigger: a row inserted into PostgreSQL, one at a time, until its job's result
 * (the function is warm: the row's change is its payload, echoed) is read, beside an event sent by the client to the
 * same function and its result read, on the same embedded default, in one run.
 */
final class DatabaseLatencyBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final int rows;

    DatabaseLatencyBench(int rows) {
        this.rows = rows;
    }

    void run() throws Exception {
        try (DevCluster dev = DevCluster.start(4, false); Postgres postgres = Postgres.start(); WharfClient client = new WharfClient(dev.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName("bench-db").setImage(LocalImages.HOT_ECHO).setMemoryMb(64)
                    .setHot(HotSettings.newBuilder().setIdleTtlMillis(600_000).setMaxJobsPerContainer(1_000_000).setPrewarm(1).build()).build());
            postgres.execute("CREATE TABLE public.ticks (id int PRIMARY KEY, at bigint NOT NULL)");
            client.triggers().create(Triggers.databaseTrigger("bench-db", "bench-db", "default", "127.0.0.1", postgres.port(), Postgres.DATABASE,
                    Postgres.USER, Postgres.PASSWORD, List.of("public.ticks"), false, null));
            Map<Integer, Long> arrived = new ConcurrentHashMap<>();
            java.util.concurrent.atomic.AtomicBoolean listening = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread listener = Thread.ofPlatform().daemon().start(() -> listen(dev, arrived, listening));
            // Rows inserted before the trigger's replication slot exists are not its: insert until one comes through.
            int warm = -1000;
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (true) {
                try {
                    insertAndAwait(postgres, arrived, warm++, Duration.ofSeconds(2));
                    break;
                } catch (IllegalStateException e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("The database trigger took no change within 3 minutes", e);
                    }
                }
            }
            // Warm: the function's container up, the paths compiled.
            for (int i = -20; i < 0; i++) {
                insertAndAwait(postgres, arrived, i, Duration.ofSeconds(30));
            }
            List<Double> database = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                database.add(insertAndAwait(postgres, arrived, i, Duration.ofSeconds(30)));
            }
            List<Double> direct = new ArrayList<>();
            for (int i = 0; i < rows + 20; i++) {
                long begin = System.nanoTime();
                client.invoke(client.event("bench-db", ("{\"id\": " + i + "}").getBytes(StandardCharsets.UTF_8), "application/json"), Duration.ofSeconds(30));
                if (i >= 20) {
                    direct.add((System.nanoTime() - begin) / 1e6);
                }
            }
            listening.set(false);
            listener.join();
            System.out.printf("Database trigger, change to job (a row inserted, its job's result read), %d rows one at a time, warm function:%n", rows);
            System.out.printf("  an event sent by the client   p50 %6.1f ms  p99 %6.1f ms%n", percentile(direct, 50), percentile(direct, 99));
            System.out.printf("  a row inserted in PostgreSQL  p50 %6.1f ms  p99 %6.1f ms (%.1f ms more at p50)%n", percentile(database, 50),
                    percentile(database, 99), percentile(database, 50) - percentile(direct, 50));
            client.triggers().delete("bench-db");
        }
    }

    private static double insertAndAwait(Postgres postgres, Map<Integer, Long> arrived, int id, Duration timeout) throws InterruptedException {
        long begin = System.nanoTime();
        postgres.execute("INSERT INTO public.ticks VALUES (" + id + ", " + System.currentTimeMillis() + ")");
        long deadline = begin + timeout.toNanos();
        while (!arrived.containsKey(id)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Row " + id + "'s job had no result within " + timeout.toSeconds() + " s");
            }
            Thread.onSpinWait();
        }
        return (arrived.get(id) - begin) / 1e6;
    }

    /** Notes when each row's result is read. */
    private static void listen(DevCluster dev, Map<Integer, Long> arrived, java.util.concurrent.atomic.AtomicBoolean listening) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, dev.endpoints().bootstrap());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        AvroDeserializer<JobResult> results = new AvroDeserializer<>(SchemaRegistryClients.forSettings(WharfClient.registrySettings(
                dev.endpoints().registry(), Map.of())), JobResult.class);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.RESULTS).stream().map(p -> new TopicPartition(Topics.RESULTS, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            while (listening.get()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    JobResult result = results.deserialize(Topics.RESULTS, record.value());
                    if (result.getFunction().equals("bench-db") && result.getJobId().startsWith("bench-db-")) {
                        try {
                            arrived.put(JSON.readTree(StandardCharsets.UTF_8.decode(result.getBody()).toString()).at("/after/id").asInt(), now);
                        } catch (java.io.IOException e) {
                            // not a change
                        }
                    }
                }
            }
        }
    }

    private static double percentile(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
