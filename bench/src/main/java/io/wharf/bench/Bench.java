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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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
import io.wharf.records.Timings;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.worker.WorkerConfig;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.OutputListener;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.worker.runtime.RunRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Figures, not a test. Cold: a job through Wharf beside {@code docker run --rm -i --network none} and beside
 * the worker's docker-java runner alone (no Kafka), and throughput at several slot counts beside the runner
 * alone at the same parallelism. Hot: warm jobs through Wharf beside a bare Kafka relay over the same hops
 * with the same delivery settings.
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

    /** Cold jobs at once in the JVM warm-up, on each side. */
    private static final int WARMUP_BURST = 48;
    /**
     * A side is measured once a warm-up burst left this JVM's JIT compiler under this many CPU seconds per job (about
     * 4% of a cold job's CPU), as in a worker that has run for a while. A fresh cluster's first bursts spend 0.02-0.03
     * s per job compiling and de-optimising the broker's, Streams' and the worker's per-job paths, fading over a few
     * hundred jobs.
     */
    private static final double SETTLED_JIT_SECONDS_PER_JOB = 0.010;
    private static final int MAX_WARMUP_BURSTS = 10;
    private static final Duration IDLE_SAMPLE = Duration.ofSeconds(3);

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
            cold();
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

    private void cold() throws Exception {
        Path work = Files.createTempDirectory("wharf-bench-");
        warmUp(work);
        if (jobs > 0) {
            coldLatency(work);
        }
        for (int slots : burst > 0 ? slotCounts : new int[0]) {
            coldThroughput(work, slots);
        }
        TempDirs.delete(work);
    }

    /**
     * Brings this JVM nearer its steady state before any cold figure: the broker's, Streams' and the worker's code
     * is compiled by the JIT over thousands of jobs, which a long-running Wharf has behind it and a fresh bench JVM
     * does not. On two cores shared with the engine, the compiler threads otherwise slow the first cold jobs. The
     * throughput rounds then warm each side further, until the JIT settles (see {@link #settle}).
     */
    private void warmUp(Path work) throws Exception {
        long t = System.nanoTime();
        try (DockerClient docker = DockerEngine.client(); ContainerRunner runner = DockerEngine.runner(docker, "bench", work);
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            bareBurst(runner, pool, "bare-jvm-warm-", WARMUP_BURST);
        }
        try (DevCluster cluster = DevCluster.start(8, false); WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName("warm-hot").setImage(LocalImages.HOT_ECHO).setMemoryMb(32)
                    .setHot(HotSettings.newBuilder().setMaxJobsPerContainer(1_000_000).setPrewarm(0).build()).build());
            throughput(client, "warm-hot", 5_000);
            for (int i = 0; i < 200; i++) {
                client.invoke(client.event("warm-hot", "w".getBytes(StandardCharsets.UTF_8), "text/plain"), Duration.ofSeconds(60));
            }
            deployCat(client);
            throughput(client, "bench-cat", WARMUP_BURST);
        }
        System.out.printf("(JVM warm-up: %.0f s)%n", (System.nanoTime() - t) / 1e9);
    }

    private void coldLatency(Path work) throws Exception {
        List<Double> cli = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            long t = System.nanoTime();
            Process p = new ProcessBuilder("docker", "run", "--rm", "-i", "--network", "none", LocalImages.BUSYBOX, "cat")
                    .redirectErrorStream(true).start();
            p.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("docker run failed");
            }
            cli.add(ms(t));
        }
        List<Double> bare = new ArrayList<>();
        try (DockerClient docker = DockerEngine.client(); ContainerRunner runner = DockerEngine.runner(docker, "bench", work)) {
            for (int i = 0; i < jobs; i++) {
                long t = System.nanoTime();
                RunOutcome o = runner.run(request("bare-" + i), OutputListener.NONE);
                if (o.exitCode() == null || o.exitCode() != 0) {
                    throw new IllegalStateException("bare run failed: " + o.error());
                }
                bare.add(ms(t));
            }
        }
        try (DevCluster cluster = DevCluster.start(4, false); WharfClient client = new WharfClient(cluster.endpoints())) {
            deployCat(client);
            client.invoke(client.event("bench-cat", new byte[0], "text/plain"), Duration.ofSeconds(60)); // warm the path
            List<Double> e2e = new ArrayList<>();
            List<long[]> parts = new ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                Event event = client.event("bench-cat", "ping".getBytes(StandardCharsets.UTF_8), "text/plain");
                long t = System.nanoTime();
                JobResult r = client.invoke(event, Duration.ofSeconds(60));
                long received = System.currentTimeMillis();
                e2e.add(ms(t));
                check(r);
                Timings x = r.getTimings();
                parts.add(new long[] {
                        x.getEnqueuedAt() - x.getEventCreatedAt(), x.getDequeuedAt() - x.getEnqueuedAt(),
                        x.getStartedAt() - x.getDequeuedAt(), x.getExitedAt() - x.getStartedAt(), x.getFinishedAt() - x.getExitedAt(),
                        received - x.getFinishedAt(), x.getCreatedAt() < x.getDequeuedAt() ? 1 : 0});
            }
            System.out.printf("COLD job latency, median of %d (p90):%n", jobs);
            System.out.printf("  docker run --rm -i CLI          %5.0f ms (%4.0f)%n", median(cli), p(cli, 0.9));
            System.out.printf("  docker-java runner, no Kafka    %5.0f ms (%4.0f)%n", median(bare), p(bare, 0.9));
            System.out.printf("  Wharf event -> result           %5.0f ms (%4.0f)  = %.2fx the CLI, %.2fx docker-java%n",
                    median(e2e), p(e2e, 0.9), median(e2e) / median(cli), median(e2e) / median(bare));
            String[] names = {"event->job (dispatcher)", "job->worker", "container ready (create+start or pre-started)",
                    "run (start to exit)", "logs + inspect + result", "result commit -> client"};
            System.out.printf("    %d of %d jobs ran on a pre-started container; removal follows the result%n",
                    parts.stream().mapToLong(x -> x[6]).sum(), parts.size());
            for (int k = 0; k < names.length; k++) {
                List<Double> values = new ArrayList<>();
                for (long[] part : parts) {
                    values.add((double) part[k]);
                }
                System.out.printf("    %-46s %4.0f ms%n", names[k], median(values));
            }
        }
    }

    /** The cold function every cold figure runs: {@code cat} in the local busybox image, as the baselines run it. */
    private static void deployCat(WharfClient client) {
        client.deploy(FunctionSpec.newBuilder().setName("bench-cat").setImage(LocalImages.BUSYBOX).setMemoryMb(32)
                .setCommand(List.of("cat")).build());
    }

    private record Rate(double perSecond, String cpu, double jitPerJob) {
    }

    /** A burst of {@code burst} cold jobs, its ids starting with the prefix; returns jobs per second. */
    private interface Burst {
        double run(String prefix) throws Exception;
    }

    /**
     * Both sides at one parallelism, their rounds interleaved (runner, Wharf, Wharf, runner, ...) with both set up
     * throughout: this machine's speed drifts by 10-20% over minutes, which rounds taken side after side would
     * count as a difference. The idle cluster's own CPU weighs on the runner's rounds too; it is measured and shown.
     */
    private void coldThroughput(Path work, int slots) throws Exception {
        try (DockerClient docker = DockerEngine.client(); ContainerRunner runner = DockerEngine.runner(docker, "bench", work);
             ExecutorService pool = Executors.newFixedThreadPool(slots);
             DevCluster cluster = DevCluster.start(slots, false); WharfClient client = new WharfClient(cluster.endpoints())) {
            deployCat(client);
            Burst bare = prefix -> {
                long t = System.nanoTime();
                bareBurst(runner, pool, "bare-" + prefix, burst);
                return burst / ((System.nanoTime() - t) / 1e9);
            };
            Burst wharf = prefix -> throughput(client, "bench-cat", burst);
            String bareWarmUp = settle(bare);
            String wharfWarmUp = settle(wharf);
            CpuMeter.Reading idleFrom = CpuMeter.read();
            Thread.sleep(IDLE_SAMPLE.toMillis());
            CpuMeter.Reading idleTo = CpuMeter.read();
            double idleSeconds = IDLE_SAMPLE.toMillis() / 1000.0;
            List<Rate> b = new ArrayList<>();
            List<Rate> w = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                boolean bareFirst = round % 2 == 0;
                Rate first = measure(bareFirst ? bare : wharf, "round-" + round + "-");
                Rate second = measure(bareFirst ? wharf : bare, "round-" + round + "-");
                b.add(bareFirst ? first : second);
                w.add(bareFirst ? second : first);
            }
            Rate mb = medianRate(b);
            Rate mw = medianRate(w);
            List<Double> paired = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                paired.add(100 * w.get(round).perSecond() / b.get(round).perSecond());
            }
            System.out.printf("COLD throughput, %d slots, %d jobs at once, median of %d interleaved rounds: Wharf %.1f jobs/s, docker-java runner alone %.1f jobs/s = %.0f%%%n",
                    slots, burst, rounds, mw.perSecond(), mb.perSecond(), 100 * mw.perSecond() / mb.perSecond());
            System.out.printf("    rounds: Wharf %s, runner alone %s jobs/s; each round's Wharf/runner %s%%, median %.0f%%%n", rates(w), rates(b),
                    String.join(" ", paired.stream().map(r -> String.format("%.0f", r)).toList()), median(paired));
            System.out.printf("    warm-up bursts before them, jobs/s (JIT CPU s/job): Wharf %s; runner alone %s%n", wharfWarmUp, bareWarmUp);
            System.out.printf("    between bursts, idle: this JVM (cluster and runner) %.3f cores, whole machine %.3f cores%n",
                    CpuMeter.seconds(idleFrom, idleTo, CpuMeter.SELF_NAME) / idleSeconds, CpuMeter.busySeconds(idleFrom, idleTo) / idleSeconds);
            System.out.printf("    median round's %s (runner alone), %s (Wharf)%n", mb.cpu(), mw.cpu());
        }
    }

    private Rate measure(Burst b, String prefix) throws Exception {
        CpuMeter.Reading before = CpuMeter.read();
        double rate = b.run(prefix);
        CpuMeter.Reading after = CpuMeter.read();
        return new Rate(rate, CpuMeter.perJob(before, after, burst), CpuMeter.seconds(before, after, CpuMeter.JIT) / burst);
    }

    /**
     * Warm-up bursts until one leaves the JIT under {@link #SETTLED_JIT_SECONDS_PER_JOB} (at least one: a fresh
     * engine's or cluster's first burst is slower; at most {@link #MAX_WARMUP_BURSTS}); lists their rates.
     */
    private String settle(Burst b) throws Exception {
        List<String> warmUp = new ArrayList<>();
        for (int i = 0; i < MAX_WARMUP_BURSTS; i++) {
            Rate r = measure(b, "warm-" + i + "-");
            warmUp.add(String.format("%.1f (%.3f)", r.perSecond(), r.jitPerJob()));
            if (r.jitPerJob() < SETTLED_JIT_SECONDS_PER_JOB) {
                break;
            }
        }
        return String.join(", ", warmUp);
    }

    private static Rate medianRate(List<Rate> rates) {
        List<Rate> sorted = new ArrayList<>(rates);
        sorted.sort(java.util.Comparator.comparingDouble(Rate::perSecond));
        return sorted.get(sorted.size() / 2);
    }

    private static String rates(List<Rate> rates) {
        return String.join(" ", rates.stream().map(r -> String.format("%.1f", r.perSecond())).toList());
    }

    private static void bareBurst(ContainerRunner runner, ExecutorService pool, String prefix, int n) throws Exception {
        List<Future<RunOutcome>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = prefix + i;
            futures.add(pool.submit(() -> runner.run(request(id), OutputListener.NONE)));
        }
        for (Future<RunOutcome> f : futures) {
            f.get();
        }
    }

    private static RunRequest request(String id) {
        return new RunRequest(id, "bench", 1, LocalImages.BUSYBOX, List.of("cat"), null, Map.of(), 32, 1.0, Duration.ofSeconds(30), false, null,
                "ping".getBytes(StandardCharsets.UTF_8), 1 << 20, null, null, null);
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

    private static double throughput(WharfClient client, String function, int n) {
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

    private static void check(JobResult r) {
        if (r.getStatus() != JobStatus.SUCCEEDED) {
            throw new IllegalStateException("bench job " + r.getStatus() + ": " + r.getError());
        }
    }

    private static double ms(long startNanos) {
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
