package io.wharf.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;

import com.github.dockerjava.api.DockerClient;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.dispatcher.DispatcherMain;
import io.wharf.embedded.Committed;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.KafkaCluster;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.SchemaRegistryProcess;
import io.wharf.embedded.TempDirs;
import io.wharf.embedded.Wait;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.topics.Topics;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.WorkerConfig;
import io.wharf.worker.WorkerMain;
import io.wharf.worker.runtime.Labels;

/**
 * Wharf under chaos: jobs of mixed lengths (four in five warm and quick, one in five warm and 0.2 s, a few of 60 s)
 * run while a worker process is SIGKILLed (and restarted, as a supervisor would) every few seconds, the dispatcher
 * is SIGKILLed once, and, on a three-node cluster, a broker is SIGKILLed and brought back. Then every job must have exactly one
 * committed result, as its first attempt, and no container may be left. The chaos test runs it at CI size,
 * {@code ./wharf bench chaos} at full size.
 */
final class Chaos {
    /**
     * @param killEvery        time between worker kills; zero for a calm run, the baseline
     * @param sessionTimeoutMs workers' consumer session: how soon a killed worker's partitions move (classic group protocol)
     * @param registryUrl      a registry to use, or null to start one
     */
    record Settings(int jobs, int longJobs, int workers, int slots, int brokers, Duration killEvery, Duration chaosFor, int sessionTimeoutMs,
                    String registryUrl) {
    }

    /** What happened; {@link #clean()} says whether nothing was lost, run twice, retried or left behind. */
    record Report(int jobs, int lost, int duplicated, int retried, int notSucceeded, int wrongBodies, long wallMillis, int workerKills,
                  int dispatcherKills, int brokerKills, List<Long> failoverMillis, long workerPeakRssMb, long dispatcherPeakRssMb,
                  int containersLeft) {
        boolean clean() {
            return lost == 0 && duplicated == 0 && retried == 0 && notSucceeded == 0 && wrongBodies == 0 && containersLeft == 0;
        }

        String figures() {
            List<Long> sorted = failoverMillis.stream().sorted().toList();
            String failover = sorted.isEmpty() ? "n/a" : "median " + sorted.get(sorted.size() / 2) + " ms, max " + sorted.getLast() + " ms over "
                    + sorted.size() + " kills";
            return String.format("chaos: %d jobs in %.1f s; lost %d, duplicated %d, retried %d, not SUCCEEDED %d, wrong bodies %d; "
                            + "kills: %d workers, %d dispatcher, %d broker; failover %s; peak RSS worker %d MiB, dispatcher %d MiB; "
                            + "containers left %d", jobs, wallMillis / 1000.0, lost, duplicated, retried, notSucceeded, wrongBodies, workerKills,
                    dispatcherKills, brokerKills, failover, workerPeakRssMb, dispatcherPeakRssMb, containersLeft);
        }
    }

    private static final String SLOW_SCRIPT = """
            exec 3<"$WHARF_HOT_IN" 4>"$WHARF_HOT_OUT"
            while read -r id payload <&3; do sleep 0.2; echo "$id 0 $payload" >&4; done
            """;

    private final Settings s;
    private final String run = UUID.randomUUID().toString().substring(0, 6);
    private final List<RoleProcess> workers = new ArrayList<>();
    private final List<Long> failovers = new CopyOnWriteArrayList<>();
    private RoleProcess dispatcher;

    Chaos(Settings settings) {
        this.s = settings;
    }

    Report run() throws Exception {
        Path logs = Files.createTempDirectory("wharf-chaos-");
        KafkaCluster cluster = s.brokers() > 1 ? KafkaCluster.start(s.brokers()) : null;
        EmbeddedKafka single = cluster == null ? EmbeddedKafka.start() : null;
        SchemaRegistryProcess ownRegistry = s.registryUrl() == null ? SchemaRegistryProcess.start() : null;
        String bootstrap = cluster != null ? cluster.bootstrapServers() : single.bootstrapServers();
        String registry = ownRegistry != null ? ownRegistry.confluentUrl() : s.registryUrl();
        System.out.println("Chaos run " + run + ": logs in " + logs);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             DockerClient docker = DockerEngine.client()) {
            LocalImages.busybox(docker);
            LocalImages.hotEcho(docker);
            Topics.ensure(admin, Topics.core(2 * s.workers(), (short) Math.min(3, s.brokers()), List.of(Topics.DEFAULT_POOL)));
            startRoles(bootstrap, registry, logs);
            Report report;
            try (WharfClient client = new WharfClient(new Endpoints(bootstrap, registry))) {
                report = drive(client, admin, cluster, bootstrap, registry, docker);
            }
            System.out.println(report.figures());
            return report;
        } finally {
            for (RoleProcess w : workers) {
                w.kill();
            }
            if (dispatcher != null) {
                dispatcher.kill();
            }
            if (ownRegistry != null) {
                ownRegistry.close();
            }
            if (cluster != null) {
                cluster.close();
            }
            if (single != null) {
                single.close();
            }
            TempDirs.delete(logs.resolve("dispatcher-state"));
        }
    }

    private void startRoles(String bootstrap, String registry, Path logs) throws Exception {
        dispatcher = new RoleProcess("dispatcher", DispatcherMain.class.getName(), Map.of(
                DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, DispatcherConfig.REGISTRY_URL_CONFIG, registry,
                DispatcherConfig.STATE_DIR_CONFIG, logs.resolve("dispatcher-state"), DispatcherConfig.APPLICATION_ID_CONFIG, "chaos-" + run,
                DispatcherConfig.MANAGEMENT_PORT_CONFIG, 0), logs);
        dispatcher.start();
        for (int i = 0; i < s.workers(); i++) {
            RoleProcess w = new RoleProcess("chaos-" + run + "-w" + i, WorkerMain.class.getName(), Map.of(
                    WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, WorkerConfig.REGISTRY_URL_CONFIG, registry,
                    WorkerConfig.ID_CONFIG, "chaos-" + run + "-w" + i, WorkerConfig.SLOTS_CONFIG, s.slots(),
                    WorkerConfig.SESSION_TIMEOUT_MS_CONFIG, s.sessionTimeoutMs(),
                    // Kills land on the same long jobs again and again: here that is the chaos, not a poison job.
                    WorkerConfig.MAX_CRASHES_CONFIG, 1000, WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG, 90_000, WorkerConfig.MANAGEMENT_PORT_CONFIG, 0), logs);
            w.start();
            workers.add(w);
        }
    }

    private Report drive(WharfClient client, Admin admin, KafkaCluster cluster, String bootstrap, String registry, DockerClient docker)
            throws Exception {
        String quick = "chaos-quick-" + run, slow = "chaos-slow-" + run, longer = "chaos-long-" + run;
        client.deploy(FunctionSpec.newBuilder().setName(quick).setImage(LocalImages.HOT_ECHO).setCommand(List.of()).setMemoryMb(64)
                .setTimeoutMillis(30_000).setHot(HotSettings.newBuilder().build()).build());
        client.deploy(FunctionSpec.newBuilder().setName(slow).setImage(LocalImages.BUSYBOX).setCommand(List.of("sh", "-c", SLOW_SCRIPT))
                .setMemoryMb(64).setTimeoutMillis(30_000).setHot(HotSettings.newBuilder().build()).build());
        client.deploy(FunctionSpec.newBuilder().setName(longer).setImage(LocalImages.BUSYBOX).setCommand(List.of("sh", "-c", "sleep 60; cat"))
                .setMemoryMb(32).setTimeoutMillis(180_000).build());
        // Every role up and serving before the clock starts.
        client.invoke(client.event(quick, "warm-up".getBytes(StandardCharsets.UTF_8), "text/plain"), Duration.ofMinutes(3));

        Map<String, String> expected = new HashMap<>();
        List<CompletableFuture<JobResult>> pending = new ArrayList<>();
        long start = System.nanoTime();
        int every = s.jobs() / Math.max(1, s.longJobs());
        int longs = 0;
        for (int i = 0; i < s.jobs(); i++) {
            boolean isLong = longs < s.longJobs() && i % every == every / 2;
            longs += isLong ? 1 : 0;
            String function = isLong ? longer : i % 5 == 0 ? slow : quick;
            String payload = "job " + i;
            Event event = client.event(function, payload.getBytes(StandardCharsets.UTF_8), "text/plain");
            event.setId((function.equals(longer) ? "L" : "J") + i + "-" + run);
            expected.put(event.getId(), payload);
            pending.add(client.invokeAsync(event));
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new));

        Random random = new Random(42);
        int workerKills = 0, dispatcherKills = 0, brokerKills = 0, tick = 0;
        boolean brokerDown = false;
        long chaosEnd = System.nanoTime() + s.chaosFor().toNanos();
        // On a cluster the kills go on until the broker has been down and back, however soon the jobs are done.
        while (!s.killEvery().isZero() && (!all.isDone() || (cluster != null && tick < 6)) && System.nanoTime() < chaosEnd) {
            Wait.pause(s.killEvery()); // the chaos's own pacing, not a wait for a condition
            tick++;
            RoleProcess victim = workers.get(random.nextInt(workers.size()));
            killWorker(admin, victim);
            workerKills++;
            if (tick == 2) {
                dispatcher.kill();
                dispatcher.start();
                dispatcherKills++;
            }
            if (cluster != null && tick == 3) {
                cluster.kill(cluster.size() - 1);
                brokerKills++;
                brokerDown = true;
            }
            if (cluster != null && tick == 6) {
                cluster.restart(cluster.size() - 1);
                brokerDown = false;
            }
            sampleAll();
        }
        if (brokerDown) {
            cluster.restart(cluster.size() - 1);
        }
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (!all.isDone() && System.nanoTime() < deadline) {
            sampleAll();
            Wait.pause(Duration.ofSeconds(1));
        }
        long wall = (System.nanoTime() - start) / 1_000_000;
        for (RoleProcess w : workers) {
            // A worker restarted by the last kill first removes what its killed incarnation left; stopped before, it could not.
            Wait.until(w.name() + " to start", Duration.ofSeconds(120), Duration.ofMillis(200),
                    () -> w.loggedSinceStart("Worker " + w.name() + " started"));
            w.stop();
        }
        dispatcher.stop();
        return verify(expected, bootstrap, registry, docker, wall, workerKills, dispatcherKills, brokerKills);
    }

    /** SIGKILLs a worker, restarts it as a supervisor would, and times how long its partitions take to be owned again. */
    private void killWorker(Admin admin, RoleProcess victim) throws Exception {
        Map<String, Set<TopicPartition>> before;
        try {
            before = assignments(admin);
        } catch (ExecutionException | TimeoutException e) {
            // The group's coordinator may be the broker the chaos has just killed: this kill's failover goes unmeasured.
            before = Map.of();
        }
        Set<TopicPartition> owned = before.entrySet().stream().filter(e -> e.getKey().startsWith(victim.name() + "|"))
                .flatMap(e -> e.getValue().stream()).collect(Collectors.toSet());
        Set<String> deadMembers = before.keySet().stream().filter(k -> k.startsWith(victim.name() + "|")).collect(Collectors.toSet());
        long killedAt = System.nanoTime();
        victim.kill();
        victim.start();
        if (owned.isEmpty()) {
            return;
        }
        Thread.ofVirtual().start(() -> {
            long limit = killedAt + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < limit) {
                try {
                    Map<String, Set<TopicPartition>> now = assignments(admin);
                    Set<TopicPartition> live = now.entrySet().stream().filter(e -> !deadMembers.contains(e.getKey()))
                            .flatMap(e -> e.getValue().stream()).collect(Collectors.toSet());
                    if (live.containsAll(owned)) {
                        failovers.add((System.nanoTime() - killedAt) / 1_000_000);
                        return;
                    }
                    Thread.sleep(50);
                } catch (Exception e) {
                    return;
                }
            }
        });
    }

    /** Partitions of the workers' group by member ({@code clientId|memberId}). */
    private static Map<String, Set<TopicPartition>> assignments(Admin admin) throws ExecutionException, TimeoutException, InterruptedException {
        String group = "wharf-workers-" + Topics.DEFAULT_POOL;
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(5, TimeUnit.SECONDS);
        Map<String, Set<TopicPartition>> out = new HashMap<>();
        for (MemberDescription m : description.members()) {
            out.put(m.clientId() + "|" + m.consumerId(), m.assignment().topicPartitions());
        }
        return out;
    }

    private Report verify(Map<String, String> expected, String bootstrap, String registry, DockerClient docker, long wall, int workerKills,
                          int dispatcherKills, int brokerKills) {
        List<JobResult> results = Committed.readAll(bootstrap, Topics.RESULTS,
                new AvroDeserializer<>(new HttpSchemaRegistryClient(registry), JobResult.class));
        Map<String, Integer> counts = new HashMap<>();
        int retried = 0, notSucceeded = 0, wrongBodies = 0;
        for (JobResult r : results) {
            if (!expected.containsKey(r.getJobId())) {
                continue;
            }
            counts.merge(r.getJobId(), 1, Integer::sum);
            retried += r.getAttempt() > 1 ? 1 : 0;
            notSucceeded += r.getStatus() != JobStatus.SUCCEEDED ? 1 : 0;
            String body = StandardCharsets.UTF_8.decode(r.getBody() == null ? ByteBuffer.allocate(0) : r.getBody()).toString();
            wrongBodies += r.getStatus() == JobStatus.SUCCEEDED && !body.equals(expected.get(r.getJobId())) ? 1 : 0;
        }
        int lost = (int) expected.keySet().stream().filter(id -> !counts.containsKey(id)).count();
        int duplicated = counts.values().stream().mapToInt(c -> c - 1).sum();
        int left = 0;
        for (RoleProcess w : workers) {
            left += docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, w.name())).exec().size();
        }
        long workerPeak = workers.stream().mapToLong(RoleProcess::peakRssMb).max().orElse(0);
        return new Report(expected.size(), lost, duplicated, retried, notSucceeded, wrongBodies, wall, workerKills, dispatcherKills, brokerKills,
                List.copyOf(failovers), workerPeak, dispatcher.peakRssMb(), left);
    }

    private void sampleAll() {
        workers.forEach(RoleProcess::sample);
        dispatcher.sample();
    }
}
