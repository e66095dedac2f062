package io.wharf.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import com.github.dockerjava.api.DockerClient;

import io.wharf.client.WharfClient;
import io.wharf.cli.DevCluster;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.worker.WorkerConfig;
import io.wharf.worker.DockerEngine;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Figures, not a test: the options, and the modes run in turn. Cold ({@link ColdBench}): a job through Wharf beside
 * {@code docker run --rm -i --network none} and the worker's docker-java runner alone. Hot (here): warm jobs through
 * Wharf beside a bare Kafka relay over the same hops with the same delivery settings.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = ChaosBench.class, description = "Measure Wharf on the embedded default beside its raw baselines; prints figures.")
public final class Bench implements Callable<Integer> {
    @Option(names = "--mode", defaultValue = "all", description = "cold, hot, dispatcher, gateway, meters, trigger, all (these), or stack "
            + "(the compose stack: jobs/s with 1 to 3 workers, a broker's loss; needs ./wharf images) (default ${DEFAULT-VALUE}).")
    String mode;
    @Option(names = "--events", defaultValue = "200000", description = "Backlog of events for dispatcher throughput (default ${DEFAULT-VALUE}).")
    int events;
    @Option(names = "--rate", defaultValue = "1000", description = "Events/s for dispatcher latency (default ${DEFAULT-VALUE}).")
    int rate;
    @Option(names = "--seconds", defaultValue = "15", description = "Duration of the dispatcher latency run (default ${DEFAULT-VALUE}).")
    int seconds;
    @Option(names = "--commit-ms", defaultValue = "100", description = "Dispatcher (and relay) commit interval for the dispatcher bench (default ${DEFAULT-VALUE}).")
    long commitMs;
    @Option(names = "--jobs", defaultValue = "50", description = "Sequential cold jobs for latency, 0 for none (default ${DEFAULT-VALUE}).")
    int jobs;
    @Option(names = "--slots", split = ",", defaultValue = "4,8", description = "Worker slot counts for cold throughput (default ${DEFAULT-VALUE}).")
    int[] slotCounts;
    @Option(names = "--rounds", defaultValue = "5", description = "Cold throughput rounds per side; the median is reported (default ${DEFAULT-VALUE}).")
    int rounds;
    @Option(names = "--burst", defaultValue = "48", description = "Cold jobs at once for throughput, 0 for none (default ${DEFAULT-VALUE}).")
    int burst;
    @Option(names = "--cpu-by-thread", description = "Also break this JVM's CPU time down by thread name in the CPU lines.")
    boolean cpuByThread;
    @Option(names = "--hot-jobs", defaultValue = "500", description = "Sequential warm jobs for latency (default ${DEFAULT-VALUE}).")
    int hotJobs;
    @Option(names = "--hot-burst", defaultValue = "5000", description = "Warm jobs at once for throughput (default ${DEFAULT-VALUE}).")
    int hotBurst;
    @Option(names = "--gateway-requests", defaultValue = "5000", description = "Requests per hey run of the gateway bench (default ${DEFAULT-VALUE}).")
    int gatewayRequests;
    @Option(names = "--gateway-concurrency", split = ",", defaultValue = "4,16",
            description = "Requests at once in the gateway bench, a hey run each (default ${DEFAULT-VALUE}: below saturation and at it on 2 cores).")
    int[] gatewayConcurrency;
    @Option(names = "--trigger-records", defaultValue = "200000", description = "Records on the topic of the trigger bench (default ${DEFAULT-VALUE}).")
    int triggerRecords;
    @Option(names = "--trigger-rows", defaultValue = "200", description = "Rows inserted one at a time in the database trigger's latency bench (default ${DEFAULT-VALUE}).")
    int triggerRows;
    @Option(names = "--stack-jobs", defaultValue = "120", description = "Cold jobs per burst in the stack bench (default ${DEFAULT-VALUE}).")
    int stackJobs;
    @Option(names = "--gateway-cold", defaultValue = "20", description = "Sequential cold calls per side in the gateway bench, for a plain and a web-server function; 0 for none (default ${DEFAULT-VALUE}).")
    int gatewayCold;

    /** {@code ./wharf bench [options]}: the script runs this module's jar, so the user CLI ships without it. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new Bench()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("wharf bench: " + e.getMessage());
            return 2;
        }).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        CpuMeter.byThread = cpuByThread;
        try (DockerClient docker = DockerEngine.client()) {
            LocalImages.busybox(docker);
            LocalImages.hotEcho(docker);
        }
        if (mode.equals("cold") || mode.equals("all")) {
            new ColdBench(jobs, slotCounts, rounds, burst).run();
        }
        if (mode.equals("hot") || mode.equals("all")) {
            hot();
        }
        if (mode.equals("dispatcher") || mode.equals("all")) {
            new DispatcherBench(events, rate, seconds, commitMs).run();
        }
        if (mode.equals("gateway") || mode.equals("all")) {
            new GatewayBench(gatewayRequests, gatewayConcurrency, gatewayCold).run();
        }
        if (mode.equals("meters") || mode.equals("all")) {
            meters();
        }
        if (mode.equals("stack")) {
            // The jar is bench/target/wharf-bench.jar of a checkout: the stack's scripts are two levels up.
            Path jar = Path.of(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            new StackBench(jar.getParent().getParent().getParent(), stackJobs).run();
        }
        if (mode.equals("trigger") || mode.equals("all")) {
            new TriggerBench(triggerRecords).run();
            new DatabaseLatencyBench(triggerRows).run();
        }
        return 0;
    }

    private void hot() throws Exception {
        Map<String, Object> worker = Map.of(WorkerConfig.PREFETCH_CONFIG, 1000);
        try (DevCluster cluster = DevCluster.start(8, false, worker); WharfClient client = new WharfClient(cluster.endpoints())) {
            // The bare relay first, on the same broker, same hops and delivery settings.
            Path state = Files.createTempDirectory("wharf-relay-");
            List<Double> relay;
            double relayRate;
            try (Relay r = new Relay(cluster.endpoints().bootstrap(), DevCluster.DISPATCHER_COMMIT_INTERVAL_MS, state)) {
                if (!r.awaitRunning(Duration.ofSeconds(60))) {
                    throw new IllegalStateException("relay did not start");
                }
                relay = relayLatencies(cluster.endpoints().bootstrap(), r, hotJobs);
                relayRate = relayThroughput(cluster.endpoints().bootstrap(), r, hotBurst);
            }
            TempDirs.delete(state);

            client.deploy(FunctionSpec.newBuilder().setName("bench-hot").setImage(LocalImages.HOT_ECHO).setMemoryMb(32)
                    .setHot(HotSettings.newBuilder().setMaxJobsPerContainer(1_000_000).setPrewarm(0).build()).build());
            for (int i = 0; i < 20; i++) {
                client.invoke(client.event("bench-hot", "warm".getBytes(), "text/plain"), Duration.ofSeconds(60));
            }
            List<Double> e2e = new ArrayList<>();
            List<Double> run = new ArrayList<>();
            for (int i = 0; i < hotJobs; i++) {
                long t = System.nanoTime();
                JobResult r = client.invoke(client.event("bench-hot", ("n" + i).getBytes(), "text/plain"), Duration.ofSeconds(60));
                e2e.add(ms(t));
                check(r);
                run.add((double) (r.getTimings().getExitedAt() - r.getTimings().getStartedAt()));
            }
            double rate = throughput(client, "bench-hot", hotBurst);
            System.out.printf("HOT job latency, %d sequential (p50 / p99):%n", hotJobs);
            System.out.printf("  bare Kafka relay (Streams EOS %d ms commit + transactional consume-produce)  %5.1f / %5.1f ms%n",
                    DevCluster.DISPATCHER_COMMIT_INTERVAL_MS, median(relay), p(relay, 0.99));
            System.out.printf("  Wharf hot job, event -> result                                            %5.1f / %5.1f ms%n", median(e2e), p(e2e, 0.99));
            System.out.printf("    container's own run time (hot protocol round trip)                       %5.1f / %5.1f ms%n", median(run), p(run, 0.99));
            System.out.printf("  ratio to (relay + run): p50 %.2fx, p99 %.2fx%n", median(e2e) / (median(relay) + median(run)),
                    p(e2e, 0.99) / (p(relay, 0.99) + p(run, 0.99)));
            System.out.printf("HOT throughput, %d jobs at once, 8 slots: Wharf %.0f jobs/s, bare relay %.0f msgs/s%n", hotBurst, rate, relayRate);
        }
    }

    /**
     * What metering costs the hot path: hot-job throughput with the dispatcher's and worker's meters recorded into
     * Prometheus' registry, and into one that keeps nothing: four clusters in one JVM, in the order on, off, off, on, so
     * that what the later ones gain (the JIT's work, warm caches) falls on both sides alike.
     */
    private void meters() throws Exception {
        Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
        for (boolean on : new boolean[] {true, false, false, true}) {
            try (DevCluster cluster = DevCluster.start(8, false, Map.of(WorkerConfig.PREFETCH_CONFIG, 1000), 0, on);
                 WharfClient client = new WharfClient(cluster.endpoints())) {
                client.deploy(FunctionSpec.newBuilder().setName("bench-meters").setImage(LocalImages.HOT_ECHO).setMemoryMb(32)
                        .setHot(HotSettings.newBuilder().setMaxJobsPerContainer(1_000_000).setPrewarm(8).build()).build());
                throughput(client, "bench-meters", hotBurst); // warm-up: JIT and warm containers
                for (int round = 0; round < 3; round++) {
                    rates.computeIfAbsent(on ? "with meters" : "without", k -> new ArrayList<>()).add(throughput(client, "bench-meters", hotBurst));
                }
            }
        }
        double with = median(rates.get("with meters"));
        double without = median(rates.get("without"));
        System.out.printf("METERS on the hot path, %d hot jobs at once, 8 slots (median of 6 bursts over two clusters each):%n", hotBurst);
        System.out.printf("  with the Prometheus meters    %6.0f jobs/s   bursts %s%n", with, rates.get("with meters"));
        System.out.printf("  without (a registry that keeps nothing) %6.0f jobs/s   bursts %s%n", without, rates.get("without"));
        System.out.printf("  metered / unmetered: %.0f%%%n", 100 * with / without);
    }

    private static List<Double> relayLatencies(String bootstrap, Relay relay, int n) {
        List<Double> out = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap); KafkaConsumer<byte[], byte[]> consumer = tail(bootstrap, relay.c)) {
            for (int i = 0; i < n + 20; i++) {
                byte[] key = ("k" + i).getBytes();
                long t = System.nanoTime();
                producer.send(new ProducerRecord<>(relay.a, key, "ping".getBytes()));
                boolean got = false;
                while (!got) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                        got |= java.util.Arrays.equals(r.key(), key);
                    }
                }
                if (i >= 20) {
                    out.add(ms(t));
                }
            }
        }
        return out;
    }

    private static double relayThroughput(String bootstrap, Relay relay, int n) {
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap); KafkaConsumer<byte[], byte[]> consumer = tail(bootstrap, relay.c)) {
            long t = System.nanoTime();
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(relay.a, ("b" + i).getBytes(), "ping".getBytes()));
            }
            producer.flush();
            int seen = 0;
            while (seen < n) {
                seen += consumer.poll(Duration.ofMillis(100)).count();
            }
            return n / ((System.nanoTime() - t) / 1e9);
        }
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<byte[], byte[]> tail(String bootstrap, String topic) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        return consumer;
    }

    static double throughput(WharfClient client, String function, int n) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(client.event(function, ("n" + i).getBytes(StandardCharsets.UTF_8), "text/plain"));
        }
        long t = System.nanoTime();
        int done = client.invokeAll(events, Duration.ofMinutes(10));
        if (done != n) {
            throw new IllegalStateException("only " + done + " of " + n + " results arrived");
        }
        return n / ((System.nanoTime() - t) / 1e9);
    }

    static void check(JobResult r) {
        if (r.getStatus() != JobStatus.SUCCEEDED) {
            throw new IllegalStateException("bench job " + r.getStatus() + ": " + r.getError());
        }
    }

    static double ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e6;
    }

    static double median(List<Double> values) {
        return p(values, 0.5);
    }

    static double p(List<Double> values, double q) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(q * sorted.size())));
    }
}
