package io.wharf.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import io.wharf.cli.DevCluster;
import io.wharf.client.WharfClient;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.Timings;
import io.wharf.worker.WorkerConfig;

import static io.wharf.bench.Bench.median;
import static io.wharf.bench.Bench.p;

/**
 * The gateway's figures beside their baselines, in one run on the embedded default: a hot function's synchronous
 * call under Debian's {@code hey} beside a bare HTTP relay over the same hops ({@link RelayHttp}, on Javalin's
 * virtual threads → produce → Streams exactly-once copy → transactional consume-produce → consume → HTTP response); a
 * cold function's call beside {@code docker run --rm -i}; and a request to an unchanged web-server image beside the
 * recipe done by hand ({@code docker run -d} on a loopback port, {@code curl} until it answers, {@code docker rm -f}).
 */
final class GatewayBench {
    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern PCT = Pattern.compile("(\\d+)% in ([0-9.]+) secs");
    private static final Pattern STATUS = Pattern.compile("\\[(\\d{3})\\]\\s+\\d+ responses");
    private static final String MANUAL_PORT = "18080";
    /** Offered loads, as shares of the relay's saturated throughput; the last is the share Wharf must sustain. */
    private static final double[] OFFERED_SHARES = {0.2, 0.35, 0.5};
    private static final int OFFERED_SECONDS = 8;
    /**
     * Closed-loop runs per side and concurrency, alternated (relay, Wharf, relay, ...): these machines' speed drifts
     * from minute to minute, so each figure is the median of its side's rounds, not one run's.
     */
    private static final int ROUNDS = 3;
    /**
     * Warm-up rounds per side, alternated, until the JIT compilers' share of a pair's CPU falls under
     * {@link #SETTLED_JIT_SHARE}: after one round of each side the compilers still took over a third of the next
     * rounds' CPU, on the two cores the calls run on, and the measured rounds got faster one after the other.
     */
    private static final int MAX_WARM_UPS = 10;
    private static final double SETTLED_JIT_SHARE = 0.05;

    private final int requests;
    /** hey's -c, one run per value: below saturation a call's latency shows its path, at saturation CPU per call. */
    private final int[] concurrencies;
    /** The highest of them: the slots and warm containers deployed, as a user sizing for that many calls at once would. */
    private final int most;
    private final int coldCalls;

    GatewayBench(int requests, int[] concurrencies, int coldCalls) {
        this.requests = requests;
        this.concurrencies = concurrencies.clone();
        this.most = java.util.Arrays.stream(concurrencies).max().orElseThrow();
        this.coldCalls = coldCalls;
    }

    void run() throws Exception {
        try (var docker = io.wharf.worker.DockerEngine.client()) {
            LocalImages.httpd(docker);
        }
        Map<String, Object> worker = Map.of(WorkerConfig.PREFETCH_CONFIG, 1000);
        try (DevCluster cluster = DevCluster.start(Math.max(8, most), false, worker, 0); WharfClient client = new WharfClient(cluster.endpoints())) {
            hot(cluster);
            if (coldCalls > 0) {
                cold(cluster, client);
                httpServer(cluster, client);
            }
        }
    }

    /** One hey run's figures. */
    private record Load(double p50Ms, double p99Ms, double perSecond) {
        /** Each figure's median over the rounds (not one round's, so the three need not come from the same round). */
        static Load median(List<Load> rounds) {
            return new Load(Bench.median(rounds.stream().map(Load::p50Ms).toList()), Bench.median(rounds.stream().map(Load::p99Ms).toList()),
                    Bench.median(rounds.stream().map(Load::perSecond).toList()));
        }
    }

    /** One concurrency's closed-loop figures, each side in the same run: every round's load, and the first round's costs. */
    private record Closed(int concurrency, List<Load> relays, List<Load> wharfs, String relayCpu, String wharfCpu, Map<String, Double> relayRecords,
                          Map<String, Double> wharfRecords, String relayRequests, String wharfRequests, String relayBreakdown, Breakdown breakdown) {
        Load relay() {
            return Load.median(relays);
        }

        Load wharf() {
            return Load.median(wharfs);
        }
    }

    private void hot(DevCluster cluster) throws Exception {
        List<Double> run = new ArrayList<>();
        // Its own client, closed before the load: its result consumer would read every result of the loaded runs.
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName("gw-hot").setImage(LocalImages.HOT_ECHO).setMemoryMb(32)
                    .setHot(HotSettings.newBuilder().setMaxJobsPerContainer(1_000_000).setPrewarm(most).build()).build());
            for (int i = 0; i < 200; i++) {
                JobResult r = client.invoke(client.event("gw-hot", "ping".getBytes(StandardCharsets.UTF_8), "text/plain"), Duration.ofSeconds(60));
                run.add((double) (r.getTimings().getExitedAt() - r.getTimings().getStartedAt()));
            }
        }
        String gateway = cluster.gatewayUrl() + "/function/gw-hot";
        String bootstrap = cluster.endpoints().bootstrap();
        Path state = Files.createTempDirectory("wharf-gw-relay-");
        List<Closed> closed = new ArrayList<>();
        List<Load[]> offered = new ArrayList<>();
        double relayMost = 0;
        String warmUp;
        try (Relay r = new Relay(bootstrap, DevCluster.DISPATCHER_COMMIT_INTERVAL_MS, state);
             RelayHttp http = new RelayHttp(bootstrap, r)) {
            if (!r.awaitRunning(Duration.ofSeconds(60))) {
                throw new IllegalStateException("relay did not start");
            }
            warmUp = warmUp(http.url(), gateway, cluster.adminKey());
            for (int c : concurrencies) {
                CpuMeter.Reading before = CpuMeter.read();
                Map<String, Long> ends = EndOffsets.byTopic(bootstrap, true);
                Map<String, Long> handled = BrokerRequests.read();
                long relayFrom = System.currentTimeMillis();
                Load relay = hey(http.url(), null, requests, c);
                String relayBreakdown = http.breakdown(relayFrom, System.currentTimeMillis());
                Map<String, Long> between = BrokerRequests.read();
                Map<String, Double> relayRecords = EndOffsets.perCall(ends, ends = EndOffsets.byTopic(bootstrap, true), requests);
                CpuMeter.Reading middle = CpuMeter.read();
                long from = System.currentTimeMillis();
                Load wharf = hey(gateway, cluster.adminKey(), requests, c);
                String wharfRequests = BrokerRequests.perCall(between, BrokerRequests.read(), requests);
                Map<String, Double> wharfRecords = EndOffsets.perCall(ends, EndOffsets.byTopic(bootstrap, true), requests);
                CpuMeter.Reading after = CpuMeter.read();
                List<Load> relays = new ArrayList<>(List.of(relay));
                List<Load> wharfs = new ArrayList<>(List.of(wharf));
                for (int round = 1; round < ROUNDS; round++) {
                    relays.add(hey(http.url(), null, requests, c));
                    wharfs.add(hey(gateway, cluster.adminKey(), requests, c));
                }
                closed.add(new Closed(c, relays, wharfs, CpuMeter.perJob(before, middle, requests, 0.0001, "request"),
                        CpuMeter.perJob(middle, after, requests, 0.0001, "request"), relayRecords, wharfRecords,
                        BrokerRequests.perCall(handled, between, requests), wharfRequests, relayBreakdown, breakdown(cluster, from, System.currentTimeMillis())));
                relayMost = Math.max(relayMost, Load.median(relays).perSecond());
            }
            // Below saturation: at a fixed offered rate a call's latency is its path's, where a closed loop at full
            // load measures CPU queueing (there, p50 is about concurrency / throughput on either side).
            for (double share : OFFERED_SHARES) {
                double rate = relayMost * share;
                offered.add(new Load[] {openLoop(http.url(), null, rate), openLoop(gateway, cluster.adminKey(), rate)});
            }
        }
        TempDirs.delete(state);
        double own = median(run);
        System.out.printf("GATEWAY sync call of a hot function (container's own time, the hot round trip's median: %.1f ms)%n", own);
        System.out.printf("  warm-up: %s%n", warmUp);
        for (Closed c : closed) {
            System.out.printf("  hey -n %d -c %d, %d rounds each, alternated (medians of p50 / p99, requests/s):%n", requests, c.concurrency(), ROUNDS);
            System.out.printf("    bare HTTP relay (same hops and delivery settings)   %6.1f / %6.1f ms   %7.0f req/s%n", c.relay().p50Ms(), c.relay().p99Ms(),
                    c.relay().perSecond());
            System.out.printf("    Wharf gateway -> hot function                      %6.1f / %6.1f ms   %7.0f req/s%n", c.wharf().p50Ms(), c.wharf().p99Ms(),
                    c.wharf().perSecond());
            System.out.printf("      each round, p50 relay / Wharf (p99): %s%n", rounds(c));
            System.out.printf("      first round's costs, relay: %s%n      Wharf: %s%n", c.relayCpu(), c.wharfCpu());
            System.out.printf("      records written per call, transaction markers and the brokers' own records included: relay %.1f, Wharf %.1f %s%n",
                    sum(c.relayRecords()), sum(c.wharfRecords()), rounded(c.wharfRecords()));
            System.out.printf("      requests the broker handled per call: relay %s, Wharf %s%n", c.relayRequests(), c.wharfRequests());
            System.out.printf("      %s%n      %s%n", c.relayBreakdown(), c.breakdown().text());
            System.out.printf("    ratio to (relay + container): p50 %.2fx, p99 %.2fx; throughput %.0f%% of the relay's%n",
                    c.wharf().p50Ms() / (c.relay().p50Ms() + own), c.wharf().p99Ms() / (c.relay().p99Ms() + own),
                    100 * c.wharf().perSecond() / c.relay().perSecond());
            // The container's time in these very calls is longer than at rest (it shares the cores with the load).
            double loaded = c.breakdown().runMs();
            System.out.printf("    ratio to (relay + container's time in these calls, %.0f ms): p50 %.2fx, p99 %.2fx%n", loaded,
                    c.wharf().p50Ms() / (c.relay().p50Ms() + loaded), c.wharf().p99Ms() / (c.relay().p99Ms() + loaded));
        }
        System.out.printf("  at a fixed offered rate, evenly spaced (open loop), %d s each (p50 / p99; ratio to relay + container):%n", OFFERED_SECONDS);
        for (int i = 0; i < offered.size(); i++) {
            Load r = offered.get(i)[0];
            Load w = offered.get(i)[1];
            System.out.printf("    %3.0f%% of the relay's maximum (%4.0f req/s): relay %5.1f / %6.1f ms, Wharf %5.1f / %6.1f ms   p50 %.2fx, p99 %.2fx%n",
                    100 * OFFERED_SHARES[i], relayMost * OFFERED_SHARES[i], r.p50Ms(), r.p99Ms(), w.p50Ms(), w.p99Ms(),
                    w.p50Ms() / (r.p50Ms() + own), w.p99Ms() / (r.p99Ms() + own));
        }
    }

    /**
     * Alternated rounds of each side at the highest concurrency until the JIT has compiled both sides' hot paths:
     * its compilers' share of a pair's CPU, each pair's share in order.
     */
    private String warmUp(String relay, String gateway, String key) throws Exception {
        List<String> shares = new ArrayList<>();
        double share = 1;
        for (int i = 0; i < MAX_WARM_UPS && share >= SETTLED_JIT_SHARE; i++) {
            CpuMeter.Reading before = CpuMeter.read();
            hey(relay, null, requests, most);
            hey(gateway, key, requests, most);
            CpuMeter.Reading after = CpuMeter.read();
            double busy = CpuMeter.busySeconds(before, after);
            share = busy > 0 ? CpuMeter.seconds(before, after, CpuMeter.JIT) / busy : 0; // 0 off Linux: one pair
            shares.add(String.format(java.util.Locale.ROOT, "%.0f%%", 100 * share));
        }
        return String.format("%d pairs of rounds; the JIT's share of each pair's CPU: %s", shares.size(), String.join(", ", shares));
    }

    private static String rounds(Closed c) {
        List<String> each = new ArrayList<>();
        for (int i = 0; i < c.relays().size(); i++) {
            Load relay = c.relays().get(i), wharf = c.wharfs().get(i);
            each.add(String.format(java.util.Locale.ROOT, "%.1f / %.1f (%.1f / %.1f) ms", relay.p50Ms(), wharf.p50Ms(), relay.p99Ms(), wharf.p99Ms()));
        }
        return String.join(", ", each);
    }

    private static double sum(Map<String, Double> perTopic) {
        return perTopic.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    private static String rounded(Map<String, Double> perTopic) {
        Map<String, String> shown = new java.util.LinkedHashMap<>();
        perTopic.forEach((topic, n) -> shown.put(topic, String.format(java.util.Locale.ROOT, "%.2f", n)));
        return shown.toString();
    }

    /** Where a loaded call's time goes, and the container's run alone (its median, ms). */
    private record Breakdown(String text, double runMs) {
    }

    /** Where a loaded call's time goes, from its result's timings (medians of the hot calls made in the window). */
    private static Breakdown breakdown(DevCluster cluster, long from, long to) {
        List<ConsumerRecord<String, JobResult>> results = io.wharf.embedded.Committed.readAll(cluster.endpoints().bootstrap(), io.wharf.topics.Topics.RESULTS,
                new io.wharf.serde.AvroDeserializer<>(new io.wharf.serde.HttpSchemaRegistryClient(cluster.endpoints().registry()), JobResult.class),
                r -> r);
        List<Double> dispatch = new ArrayList<>(), queue = new ArrayList<>(), start = new ArrayList<>(), run = new ArrayList<>(), commit = new ArrayList<>();
        List<Double> toWorker = new ArrayList<>(), sent = new ArrayList<>();
        for (ConsumerRecord<String, JobResult> record : results) {
            JobResult r = record.value();
            Timings t = r.getTimings();
            if (!r.getFunction().equals("gw-hot") || t.getEventCreatedAt() == null || t.getEventCreatedAt() < from || t.getEventCreatedAt() > to
                    || t.getStartedAt() == null) {
                continue;
            }
            dispatch.add((double) (t.getEnqueuedAt() - t.getEventCreatedAt()));
            queue.add((double) (t.getDequeuedAt() - t.getEnqueuedAt()));
            toWorker.add((double) (t.getDequeuedAt() - t.getEventCreatedAt()));
            start.add((double) (t.getStartedAt() - t.getDequeuedAt()));
            run.add((double) (t.getExitedAt() - t.getStartedAt()));
            commit.add((double) (t.getFinishedAt() - t.getExitedAt()));
            sent.add((double) (record.timestamp() - t.getFinishedAt())); // its record's time is the worker's send, in the transaction
        }
        double running = median(run);
        return new Breakdown(String.format(java.util.Locale.ROOT, "where a Wharf call's time goes (median of %d): event -> job %.0f ms, job -> worker %.0f ms "
                + "(sent -> read by the worker %.0f ms), worker -> container %.0f ms, run %.0f ms, result made %.0f ms after, sent in a transaction %.0f ms after that", dispatch.size(),
                median(dispatch), median(queue), median(toWorker), median(start), running, median(commit), median(sent)), running);
    }

    private void cold(DevCluster cluster, WharfClient client) throws Exception {
        client.deploy(FunctionSpec.newBuilder().setName("gw-cold").setImage(LocalImages.BUSYBOX).setCommand(List.of("cat")).setMemoryMb(32).build());
        HttpClient http = HttpClient.newHttpClient();
        List<Double> wharf = new ArrayList<>();
        List<Double> docker = new ArrayList<>();
        for (int i = 0; i < coldCalls + 3; i++) {
            long t = System.nanoTime();
            HttpResponse<String> r = http.send(post(cluster.gatewayUrl() + "/function/gw-cold", cluster.adminKey(), "ping"), HttpResponse.BodyHandlers.ofString());
            double gatewayMs = ms(t);
            check(r.statusCode() == 200 && r.body().equals("ping"), "gateway cold call: " + r.statusCode() + " " + r.body());
            t = System.nanoTime();
            String out = exec("ping", "docker", "run", "--rm", "-i", "--network", "none", LocalImages.BUSYBOX, "cat");
            double dockerMs = ms(t);
            check(out.equals("ping"), "docker run: " + out);
            if (i >= 3) {
                wharf.add(gatewayMs);
                docker.add(dockerMs);
            }
        }
        System.out.printf("GATEWAY sync call of a cold function, %d sequential (median / p90):%n", coldCalls);
        System.out.printf("  docker run --rm -i --network none (CLI)            %6.1f / %6.1f ms%n", median(docker), p(docker, 0.9));
        System.out.printf("  Wharf gateway -> cold function                     %6.1f / %6.1f ms   ratio %.2fx%n", median(wharf), p(wharf, 0.9),
                median(wharf) / median(docker));
    }

    private void httpServer(DevCluster cluster, WharfClient client) throws Exception {
        client.deploy(FunctionSpec.newBuilder().setName("gw-web").setImage(LocalImages.HTTPD).setCommand(List.of()).setMemoryMb(32)
                .setHttpPort(LocalImages.HTTPD_PORT).build());
        HttpClient http = HttpClient.newHttpClient();
        List<Double> wharf = new ArrayList<>();
        List<Double> manual = new ArrayList<>();
        List<Double> start = new ArrayList<>();
        List<Double> ready = new ArrayList<>();
        List<Double> serve = new ArrayList<>();
        for (int i = 0; i < coldCalls + 3; i++) {
            long t = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cluster.gatewayUrl() + "/function/gw-web/index.html"))
                    .header("Authorization", "Bearer " + cluster.adminKey()).build(), HttpResponse.BodyHandlers.ofString());
            double gatewayMs = ms(t);
            check(r.statusCode() == 200 && r.body().contains("unchanged web server"), "gateway web call: " + r.statusCode() + " " + r.body());
            String id = r.headers().firstValue("X-Call-Id").orElseThrow();
            t = System.nanoTime();
            manualRecipe();
            double manualMs = ms(t);
            if (i >= 3) {
                wharf.add(gatewayMs);
                manual.add(manualMs);
                Timings timings = client.result(id, Instant.now().minusSeconds(120)).orElseThrow().getTimings();
                start.add((double) (timings.getStartedAt() - timings.getCreatedAt()));
                ready.add((double) (timings.getReadyAt() - timings.getStartedAt()));
                // A server started ahead was ready before the request came: its serving began when the worker took the job.
                serve.add((double) (timings.getExitedAt() - Math.max(timings.getReadyAt(), timings.getDequeuedAt())));
            }
        }
        System.out.printf("GATEWAY request to an unchanged web server (busybox httpd), %d sequential (median / p90):%n", coldCalls);
        System.out.printf("  by hand: docker run -d --network host, curl until it answers, docker rm -f   %6.1f / %6.1f ms%n", median(manual), p(manual, 0.9));
        System.out.printf("  Wharf gateway -> --http-port function, network none                          %6.1f / %6.1f ms   ratio %.2fx%n",
                median(wharf), p(wharf, 0.9), median(wharf) / median(manual));
        // The stop follows the answer, so the result cannot hold it: the worker's meter times each one when it ends.
        io.micrometer.core.instrument.Timer stops = null;
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); System.nanoTime() < deadline; Thread.sleep(20)) {
            stops = cluster.meters().find(io.wharf.worker.runtime.WorkerMeters.CONTAINER).tags("function", "gw-web", "phase", "teardown").timer();
            if (stops != null && stops.count() >= coldCalls + 3) {
                break;
            }
        }
        check(stops != null, "no container stop was measured");
        System.out.printf("    its container's lifetime (median): start %.0f ms, ready %.0f ms (ahead of the request when the worker prestarts), "
                        + "serve %.0f ms; stop after the answer %.0f ms (mean)%n",
                median(start), median(ready), median(serve), stops.mean(TimeUnit.MILLISECONDS));
    }

    /** The first seed's recipe, by hand, as an operator would script it. */
    private static void manualRecipe() throws Exception {
        String id = exec(null, "docker", "run", "-d", "--network", "host", LocalImages.HTTPD, "/bin/httpd", "-f", "-p", "127.0.0.1:" + MANUAL_PORT,
                "-h", "/www").strip();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                Process curl = new ProcessBuilder("curl", "-sf", "http://127.0.0.1:" + MANUAL_PORT + "/index.html").redirectErrorStream(true).start();
                String body = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (curl.waitFor() == 0 && body.contains("unchanged web server")) {
                    return;
                }
                check(System.nanoTime() < deadline, "the hand-run server never answered");
            }
        } finally {
            exec(null, "docker", "rm", "-f", id);
        }
    }

    /** {@code rate} calls per second, evenly spaced, for {@link #OFFERED_SECONDS}. */
    private static Load openLoop(String url, String key, double rate) throws Exception {
        double[] p = OpenLoop.run(url, key, "ping", rate, Duration.ofSeconds(OFFERED_SECONDS));
        return new Load(p[0], p[1], rate);
    }

    private static Load hey(String url, String key, int n, int concurrency) throws Exception {
        List<String> command = new ArrayList<>(List.of("hey", "-n", String.valueOf(n), "-c", String.valueOf(concurrency), "-m", "POST", "-d", "ping",
                "-T", "text/plain"));
        if (key != null) {
            command.addAll(List.of("-H", "Authorization: Bearer " + key));
        }
        command.add(url);
        String out = exec(null, command.toArray(String[]::new));
        Matcher rps = RPS.matcher(out);
        check(rps.find(), "hey printed no Requests/sec:\n" + out);
        // hey sends n rounded down to a multiple of -c; every one must have answered 200.
        for (Matcher m = STATUS.matcher(out); m.find(); ) {
            check(m.group(1).equals("200"), "not every request answered 200:\n" + out);
        }
        check(!out.contains("Error distribution"), "requests failed:\n" + out);
        double p50 = 0, p99 = 0;
        for (Matcher m = PCT.matcher(out); m.find(); ) {
            if (m.group(1).equals("50")) {
                p50 = Double.parseDouble(m.group(2)) * 1000;
            } else if (m.group(1).equals("99")) {
                p99 = Double.parseDouble(m.group(2)) * 1000;
            }
        }
        return new Load(p50, p99, Double.parseDouble(rps.group(1)));
    }

    private static HttpRequest post(String url, String key, String body) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Runs a command, {@code input} on its stdin; its output. */
    private static String exec(String input, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (input != null) {
            p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        check(p.waitFor() == 0, String.join(" ", command) + " failed: " + out);
        return out;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }

    private static double ms(long since) {
        return (System.nanoTime() - since) / 1e6;
    }
}
