package io.wharf.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.javalin.Javalin;

import static io.wharf.bench.Bench.median;

/**
 * The gateway bench's bare relay's HTTP front: each POST is produced to the relay's first topic under a fresh key and
 * answered when that key comes out of its last topic, read by one consumer for all requests (as the gateway awaits
 * results). Bench only.
 */
final class RelayHttp implements AutoCloseable {
    /** A call waiting for its answer, and when it was sent (epoch ms). */
    private record Waiting(CompletableFuture<byte[]> answer, long sentAt) {
    }

    private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();
    /** Each answered call's hops: {read back at, sent at, the loop's write of it} (epoch ms; the loop's record time is its send). */
    private final Queue<long[]> hops = new ConcurrentLinkedQueue<>();
    private final KafkaProducer<byte[], byte[]> producer;
    private final Thread reader;
    private final Javalin app;
    private volatile boolean stop;

    RelayHttp(String bootstrap, Relay relay) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "relay-http-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(relay.c));
        CompletableFuture<Void> assigned = new CompletableFuture<>();
        reader = Thread.ofPlatform().name("relay-http-reader").start(() -> {
            try (consumer) {
                while (!stop) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        Waiting w = waiting.remove(new String(r.key(), StandardCharsets.UTF_8));
                        if (w != null) {
                            hops.add(new long[] {System.currentTimeMillis(), w.sentAt(), r.timestamp()});
                            w.answer().complete(r.value());
                        }
                    }
                    if (!consumer.assignment().isEmpty()) {
                        assigned.complete(null);
                    }
                }
            }
        });
        assigned.join();
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.concurrency.useVirtualThreads = true;
            config.jetty.host = "127.0.0.1";
            config.jetty.port = 0;
            config.routes.post("/relay", ctx -> {
                String key = UUID.randomUUID().toString();
                CompletableFuture<byte[]> answer = new CompletableFuture<>();
                waiting.put(key, new Waiting(answer, System.currentTimeMillis()));
                producer.send(new ProducerRecord<>(relay.a, key.getBytes(StandardCharsets.UTF_8), ctx.bodyAsBytes()));
                ctx.header("X-Call-Id", key).result(answer.get(60, TimeUnit.SECONDS));
            });
        }).start();
    }

    String url() {
        return "http://127.0.0.1:" + app.port() + "/relay";
    }

    /**
     * Where the relay's calls answered between {@code from} and {@code to} spent their time, as Wharf's breakdown
     * counts it: sent -> read by the loop (Wharf's event -> job -> worker), then -> read by the HTTP front.
     */
    String breakdown(long from, long to) {
        List<Double> loop = new ArrayList<>(), back = new ArrayList<>();
        for (long[] h : hops) {
            if (h[1] >= from && h[1] <= to) {
                loop.add((double) (h[2] - h[1]));
                back.add((double) (h[0] - h[2]));
            }
        }
        return String.format(java.util.Locale.ROOT, "where a relay call's time goes (median of %d): sent -> read by the loop %.0f ms, "
                + "loop's write -> answered %.0f ms", loop.size(), median(loop), median(back));
    }

    @Override
    public void close() throws InterruptedException {
        app.stop();
        stop = true;
        reader.join();
        producer.close();
    }
}
