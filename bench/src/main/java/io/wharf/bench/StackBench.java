package io.wharf.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.wharf.embedded.LocalImages;
import io.wharf.topics.Topics;

/**
 * The compose stack (deploy/compose, {@code ./wharf stack}) on this machine: cold jobs/s through the gateway with 1, 2
 * and 3 worker containers (the ratio to one worker is the figure; every role shares this host's cores), then how
 * long the loss of one broker of three stalls a steady stream of jobs, beside the same stream's gaps with all
 * brokers up.
 */
final class StackBench {
    private static final String BOOTSTRAP = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094";
    private static final String GATEWAY = "http://127.0.0.1:18080";
    private static final String FUNCTION = "bench-stack";
    private static final int IN_FLIGHT = 16;

    private final Path root;
    private final int jobs;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String key;

    StackBench(Path root, int jobs) {
        this.root = root;
        this.jobs = jobs;
    }

    void run() throws Exception {
        Path dir = Files.createTempDirectory("wharf-stack-bench-");
        try {
            double one = 0;
            double three = 0;
            for (int workers = 1; workers <= 3; workers++) {
                stack(dir, "up", "--workers", String.valueOf(workers));
                if (key == null) {
                    key = Files.readString(dir.resolve("targets/admin.key")).strip();
                    send(HttpRequest.newBuilder(URI.create(GATEWAY + "/v1/functions/" + FUNCTION)).header("Content-Type", "application/json")
                            .PUT(HttpRequest.BodyPublishers.ofString("{\"image\": \"" + LocalImages.BUSYBOX + "\", \"cmd\": [\"cat\"], \"memory\": \"32m\"}")));
                }
                awaitMembers(workers);
                if (workers == 1) {
                    double bare = dockerRuns(Math.min(jobs, 60));
                    System.out.printf("stack: baseline on this host with the stack up: %.1f docker run --rm -i --network none/s, 4 at a time%n", bare);
                }
                burst(Math.min(jobs, 30)); // warm-up: images pinned, JITs settled
                long offsetsBefore = EndOffsets.total(BOOTSTRAP, false);
                double rate = burst(jobs);
                if (workers == 1) {
                    // What a broker stores per job, for sizing: records and transaction markers, all topics together.
                    System.out.printf("stack: %.1f offsets per job across all topics (records and transaction markers)%n",
                            (EndOffsets.total(BOOTSTRAP, false) - offsetsBefore) / (double) jobs);
                }
                one = workers == 1 ? rate : one;
                three = rate;
                System.out.printf("stack: %d worker(s): %.1f cold jobs/s through the gateway (%.2fx one worker)%n", workers, rate, rate / one);
            }
            brokerLoss(dir, three / 2);
        } finally {
            stack(dir, "down");
        }
    }

    /** Submits {@code count} jobs at once ({@value #IN_FLIGHT} requests in flight); jobs/s from the first request to the last result. */
    private double burst(int count) throws Exception {
        try (Results results = new Results()) {
            long begin = System.nanoTime();
            List<String> ids = submit(count);
            long end = results.awaitAll(ids, Duration.ofMinutes(10));
            return count / ((end - begin) / 1e9);
        }
    }

    /**
     * A steady stream at half the stack's throughput for 90 s; broker 2 is killed at 30 s and started again at 60 s.
     * Reported: the longest wait between consecutive results and the slowest job, before the kill and after it.
     */
    private void brokerLoss(Path dir, double rate) throws Exception {
        try (Results results = new Results()) {
            Map<String, Long> sentAt = new ConcurrentHashMap<>();
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            long begin = System.nanoTime();
            long killAt = begin + TimeUnit.SECONDS.toNanos(30);
            long restartAt = begin + TimeUnit.SECONDS.toNanos(60);
            long endAt = begin + TimeUnit.SECONDS.toNanos(90);
            long every = (long) (1e9 / rate);
            boolean killed = false;
            boolean restarted = false;
            for (long next = begin; next < endAt; next += every) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
                if (!killed && next >= killAt) {
                    new Thread(() -> stackQuietly(dir, "compose", "kill", "broker-2")).start();
                    killed = true;
                }
                if (!restarted && next >= restartAt) {
                    new Thread(() -> stackQuietly(dir, "compose", "start", "broker-2")).start();
                    restarted = true;
                }
                long at = System.nanoTime();
                submitAsync(id -> {
                    sentAt.put(id, at);
                    ids.add(id);
                });
            }
            results.awaitAll(ids, Duration.ofMinutes(5));
            List<long[]> before = new ArrayList<>();
            List<long[]> after = new ArrayList<>();
            for (String id : ids) {
                long sent = sentAt.get(id);
                (sent < killAt ? before : after).add(new long[] {sent, results.at(id)});
            }
            System.out.printf("stack: broker loss at a steady %.2f jobs/s: before the kill the longest wait between results %.1f s, slowest job %.1f s;"
                    + " from the kill on %.1f s and %.1f s (%d jobs, each with one result)%n", rate, gap(before), slowest(before), gap(after),
                    slowest(after), ids.size());
        }
    }

    /** The raw baseline: containers/s that {@code docker run --rm -i --network none} makes, 4 at a time, with the stack up. */
    private static double dockerRuns(int count) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            long begin = System.nanoTime();
            List<java.util.concurrent.Future<Integer>> runs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                runs.add(pool.submit(() -> {
                    Process p = new ProcessBuilder("docker", "run", "--rm", "-i", "--network", "none", "--memory", "32m", LocalImages.BUSYBOX, "cat")
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    p.getOutputStream().write("payload".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    p.getOutputStream().close();
                    return p.waitFor();
                }));
            }
            for (var run : runs) {
                if (run.get() != 0) {
                    throw new IllegalStateException("docker run failed");
                }
            }
            return count / ((System.nanoTime() - begin) / 1e9);
        } finally {
            pool.shutdown();
        }
    }

    private static double gap(List<long[]> jobs) {
        List<Long> ends = jobs.stream().map(j -> j[1]).sorted().toList();
        long longest = 0;
        for (int i = 1; i < ends.size(); i++) {
            longest = Math.max(longest, ends.get(i) - ends.get(i - 1));
        }
        return longest / 1e9;
    }

    private static double slowest(List<long[]> jobs) {
        return jobs.stream().mapToLong(j -> j[1] - j[0]).max().orElse(0) / 1e9;
    }

    private List<String> submit(int count) throws Exception {
        List<String> ids = Collections.synchronizedList(new ArrayList<>());
        Semaphore slots = new Semaphore(IN_FLIGHT);
        for (int i = 0; i < count; i++) {
            slots.acquire();
            submitAsync(ids::add).whenComplete((r, e) -> slots.release());
        }
        slots.acquire(IN_FLIGHT);
        return ids;
    }

    private java.util.concurrent.CompletableFuture<Void> submitAsync(java.util.function.Consumer<String> onId) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(GATEWAY + "/async-function/" + FUNCTION)).header("Authorization", "Bearer " + key)
                .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString("payload")).build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).thenAccept(response -> {
            if (response.statusCode() != 202) {
                throw new IllegalStateException("the gateway answered " + response.statusCode());
            }
            onId.accept(response.headers().firstValue("X-Call-Id").orElseThrow());
        });
    }

    private void send(HttpRequest.Builder request) throws Exception {
        HttpResponse<String> response = http.send(request.header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() >= 300) {
            throw new IllegalStateException(response.statusCode() + ": " + response.body());
        }
    }

    private static void awaitMembers(int workers) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", BOOTSTRAP))) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (System.nanoTime() < deadline) {
                var group = admin.describeConsumerGroups(List.of("wharf-workers-" + Topics.DEFAULT_POOL)).all().get().get("wharf-workers-" + Topics.DEFAULT_POOL);
                if (group.members().size() == workers && group.members().stream().noneMatch(m -> m.assignment().topicPartitions().isEmpty())) {
                    return;
                }
                Thread.sleep(500);
            }
            throw new IllegalStateException(workers + " workers did not join the pool's group within 3 minutes");
        }
    }

    private void stack(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", root.resolve("scripts/stack.sh").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("WHARF_STACK_DIR", dir.toString());
        Process process = builder.start();
        if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IllegalStateException("wharf stack " + String.join(" ", args) + " failed");
        }
    }

    private void stackQuietly(Path dir, String... args) {
        try {
            stack(dir, args);
        } catch (Exception e) {
            System.err.println("stack: " + e.getMessage());
        }
    }

    /** When each job's result was committed to wharf.results, as a consumer of the stack sees it. */
    private static final class Results implements AutoCloseable {
        private final Map<String, Long> seen = new ConcurrentHashMap<>();
        private final KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", BOOTSTRAP,
                "isolation.level", "read_committed"), new StringDeserializer(), new ByteArrayDeserializer());
        private final Thread reader;
        private volatile boolean open = true;

        Results() {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.RESULTS).stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            reader = new Thread(() -> {
                while (open) {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                        seen.merge(record.key(), System.nanoTime(), (first, again) -> {
                            throw new IllegalStateException("two results for job " + record.key());
                        });
                    }
                }
            }, "stack-results");
            reader.start();
        }

        long awaitAll(List<String> ids, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!seen.keySet().containsAll(ids)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(ids.stream().filter(id -> !seen.containsKey(id)).count() + " jobs had no result in " + timeout);
                }
                Thread.sleep(20);
            }
            return ids.stream().mapToLong(seen::get).max().orElse(System.nanoTime());
        }

        long at(String id) {
            return seen.get(id);
        }

        @Override
        public void close() throws InterruptedException {
            open = false;
            reader.join();
            consumer.close();
        }
    }
}
