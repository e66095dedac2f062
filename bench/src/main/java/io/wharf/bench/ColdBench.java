package io.wharf.bench;

import static io.wharf.bench.Bench.check;
import static io.wharf.bench.Bench.median;
import static io.wharf.bench.Bench.ms;
import static io.wharf.bench.Bench.p;
import static io.wharf.bench.Bench.throughput;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.github.dockerjava.api.DockerClient;

import io.wharf.cli.DevCluster;
import io.wharf.client.WharfClient;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.Timings;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.OutputListener;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.worker.runtime.RunRequest;

/**
 * {@code --mode cold}: a cold job through Wharf beside {@code docker run --rm -i --network none} and beside the worker's
 * docker-java runner alone (no Kafka), one at a time; then throughput at several slot counts beside the runner alone at
 * the same parallelism, their rounds interleaved.
 */
final class ColdBench {
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

    private final int jobs;
    private final int[] slotCounts;
    private final int rounds;
    private final int burst;

    ColdBench(int jobs, int[] slotCounts, int rounds, int burst) {
        this.jobs = jobs;
        this.slotCounts = slotCounts.clone();
        this.rounds = rounds;
        this.burst = burst;
    }

    void run() throws Exception {
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
}
