package io.wharf.worker.docker;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;

import io.wharf.worker.runtime.HttpEnvironment;
import io.wharf.worker.runtime.OutputListener;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.worker.runtime.RunRequest;
import io.wharf.worker.runtime.Usage;
import io.wharf.worker.runtime.WorkerMeters;

/**
 * Warm containers of hot functions, spoken to through a FIFO pair in a bind-mounted directory (no
 * {@code docker exec}, no attach: a round trip is a write and a read on local pipes).
 *
 * <p>The hot protocol, one line per message, binary-safe through base64:
 * <pre>
 *   /wharf/hot/in  (Wharf to the function): JOB_ID SP PAYLOAD_BASE64 LF
 *   /wharf/hot/out (the function to Wharf): JOB_ID SP EXIT_CODE SP STDOUT_BASE64 LF
 * </pre>
 * The function opens {@code in} for reading first, then {@code out} for writing, and answers each job in turn.
 * A container that dies (or whose pipe closes) is replaced and its in-flight job is tried once more on a new
 * container; a job that outlives its timeout has its container killed. An answer is read within the function's body
 * cap; one that breaks the protocol (see {@link HotFraming}) fails its job and the container is replaced.
 */
final class HotContainers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HotContainers.class);
    static final String HOT_DIR = "/wharf/hot";
    /** The running job's HTTP request as a script to source ({@code $WHARF_HOT_REQUEST}); empty for jobs from elsewhere. */
    static final String REQUEST_FILE = "request.env";

    private final DockerClient docker;
    private final Path workDir;
    private final HardenedContainers containers;
    private final Map<String, Pool> pools = new HashMap<>();
    /** Job id to the warm container answering it right now, so a cancel can kill that container. */
    private final Map<String, Container> calls = new java.util.concurrent.ConcurrentHashMap<>();
    /** Jobs whose container was killed on purpose (cancel): not retried. */
    private final java.util.Set<String> killed = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService janitor = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("wharf-hot-janitor").factory());

    private final WorkerMeters meters;

    HotContainers(DockerClient docker, Path workDir, HardenedContainers containers, WorkerMeters meters) {
        this.meters = meters;
        this.docker = docker;
        this.workDir = workDir;
        this.containers = containers;
        janitor.scheduleWithFixedDelay(this::retireIdle, 1, 1, TimeUnit.SECONDS);
    }

    RunOutcome run(RunRequest request, OutputListener output, long pulledAt) throws InterruptedException {
        Pool pool;
        synchronized (pools) {
            pool = pools.computeIfAbsent(Containers.key(request), k -> new Pool(request));
            pool.lastUsedNanos = System.nanoTime(); // under the lock: retireIdle sees the pool in use before it drops it
        }
        Container container = pool.acquire(request);
        if (container == null) {
            return RunOutcome.failedToRun("No warm container could be started for " + request.function() + ": " + pool.lastError, pulledAt);
        }
        RunOutcome outcome = call(container, request, output, pulledAt);
        if (outcome == null && Thread.currentThread().isInterrupted()) {
            pool.discard(container); // abandoned: its container was killed mid-job
            throw new InterruptedException("job " + request.jobId() + " abandoned");
        }
        if (outcome == null && killed.remove(request.jobId())) {
            pool.discard(container);
            long now = System.currentTimeMillis();
            return new RunOutcome(null, false, false, new byte[0], false, null, "Its warm container was killed", null, pulledAt, 0, now, now, 0);
        }
        if (outcome == null) {
            // The container died under the job: replace it and try the job once more.
            pool.discard(container);
            log.info("Warm container of {} died during job {}; retrying it on a new container", request.function(), request.jobId());
            container = pool.acquire(request);
            if (container == null) {
                return RunOutcome.failedToRun("Warm container of " + request.function() + " died and none could replace it: " + pool.lastError, pulledAt);
            }
            outcome = call(container, request, output, pulledAt);
            if (outcome == null) {
                pool.discard(container);
                return container.deathOutcome(pulledAt);
            }
        }
        if (outcome.timedOut() || container.broken) {
            pool.discard(container);
        } else {
            pool.release(container);
        }
        return outcome;
    }

    private RunOutcome call(Container container, RunRequest request, OutputListener output, long pulledAt) {
        calls.put(request.jobId(), container);
        try {
            return container.call(request, output, pulledAt);
        } finally {
            calls.remove(request.jobId());
        }
    }

    /** Kills the warm container running this job (it is replaced for later jobs); false if none runs it. */
    boolean kill(String jobId) {
        Container container = calls.get(jobId);
        if (container == null) {
            return false;
        }
        killed.add(jobId);
        container.kill();
        return true;
    }

    /**
     * Retires containers idle past their TTL. A function's most recently used version keeps its prewarmed ones; an
     * older version (the function was redeployed) keeps none, and its pool goes once its last container has.
     */
    private void retireIdle() {
        Map<String, Long> latest = new HashMap<>();
        List<Pool> all;
        synchronized (pools) {
            all = new ArrayList<>(pools.values());
        }
        all.forEach(p -> latest.merge(p.template.function(), p.lastUsedNanos, Math::max));
        for (Pool pool : all) {
            long used = pool.lastUsedNanos;
            boolean current = used == latest.get(pool.template.function());
            if (pool.retireIdle(current ? pool.template.hot().prewarm() : 0) && !current) {
                synchronized (pools) {
                    if (pool.lastUsedNanos == used && pools.values().remove(pool)) { // unless a job took it meanwhile
                        log.info("Warm containers of an earlier version of {} all retired", pool.template.function());
                    }
                }
            }
        }
    }

    int containerCount() {
        synchronized (pools) {
            return pools.values().stream().mapToInt(p -> p.all.size()).sum();
        }
    }

    @Override
    public void close() {
        janitor.shutdownNow();
        List<Pool> all;
        synchronized (pools) {
            all = new ArrayList<>(pools.values());
            pools.clear();
        }
        all.forEach(Pool::close);
    }

    /** The warm containers of one function version. */
    /** The function's warm containers across its versions' pools, idle or busy (read by a gauge). */
    private int count(String function, boolean idle) {
        List<Pool> of;
        synchronized (pools) {
            of = pools.values().stream().filter(p -> p.template.function().equals(function)).toList();
        }
        int n = 0;
        for (Pool p : of) {
            synchronized (p) {
                n += idle ? p.idle.size() : p.all.size() - p.idle.size();
            }
        }
        return n;
    }

    private final class Pool {
        private final RunRequest template;
        private final ArrayDeque<Container> idle = new ArrayDeque<>();
        private final List<Container> all = new ArrayList<>();
        private int starting;
        private volatile String lastError = "";
        private volatile long lastUsedNanos = System.nanoTime();

        Pool(RunRequest template) {
            this.template = template;
            String function = template.function();
            meters.gauge(WorkerMeters.WARM, () -> count(function, true), "function", function, "state", "idle");
            meters.gauge(WorkerMeters.WARM, () -> count(function, false), "function", function, "state", "busy");
            // Prewarming stays within the function's container cap (the worker's slots, or its maxConcurrency).
            for (int i = 0; i < Math.min(template.hot().prewarm(), template.hot().maxContainers()); i++) {
                Thread.ofVirtual().start(() -> {
                    Container c = start(template);
                    if (c != null) {
                        release(c);
                    }
                });
            }
        }

        Container acquire(RunRequest request) throws InterruptedException {
            boolean waited = false;
            synchronized (this) {
                while (true) {
                    Container c = idle.pollLast(); // most recently used: its caches are warm
                    if (c != null) {
                        meters.warmAcquired(request.function(), waited ? "waited" : "hit");
                        return c;
                    }
                    if (all.size() + starting < request.hot().maxContainers()) {
                        starting++;
                        meters.warmAcquired(request.function(), "started");
                        break;
                    }
                    waited = true;
                    wait();
                }
            }
            Container c = null;
            try {
                c = start(request);
                return c;
            } finally {
                synchronized (this) {
                    starting--;
                    if (c == null) {
                        notifyAll();
                    }
                }
            }
        }

        private Container start(RunRequest request) {
            Container c = Container.start(HotContainers.this, request);
            if (c == null) {
                return null;
            }
            if (c.error != null) {
                lastError = c.error;
                return null;
            }
            synchronized (this) {
                all.add(c);
            }
            return c;
        }

        synchronized void release(Container c) {
            if (c.served >= template.hot().maxJobsPerContainer()) {
                all.remove(c);
                Thread.ofVirtual().start(c::remove);
            } else {
                c.lastUsedNanos = System.nanoTime();
                idle.add(c);
            }
            notifyAll();
        }

        synchronized void discard(Container c) {
            all.remove(c);
            idle.remove(c);
            Thread.ofVirtual().start(c::remove);
            notifyAll();
        }

        /** Retires idle containers past their TTL, keeping {@code floor}; true if the pool is empty afterwards. */
        boolean retireIdle(int floor) {
            long ttl = template.hot().idleTtl().toNanos();
            List<Container> expired = new ArrayList<>();
            boolean empty;
            synchronized (this) {
                for (Container c : idle) {
                    if (System.nanoTime() - c.lastUsedNanos > ttl && all.size() - expired.size() > floor) {
                        expired.add(c);
                    }
                }
                idle.removeAll(expired);
                all.removeAll(expired);
                empty = all.isEmpty() && starting == 0;
            }
            expired.forEach(Container::remove);
            return empty;
        }

        void close() {
            List<Container> containers;
            synchronized (this) {
                containers = new ArrayList<>(all);
                all.clear();
                idle.clear();
            }
            containers.forEach(Container::remove);
        }
    }

    /** How long a failed job's stderr may trail its answer on the FIFO (the engine's log path is a few ms). */
    private static final java.time.Duration STDERR_SETTLE = java.time.Duration.ofMillis(100);

    /** One warm container and its pipe pair. */
    private static final class Container {
        private final HotContainers owner;
        private final String id;
        private final Path dir;
        private OutputStream in;
        private java.io.InputStream out;
        /** It broke the protocol: it gets no further job. */
        private volatile boolean broken;
        /** Its stdout and stderr, which are free for the function's own lines (the protocol has the FIFOs). */
        private final HotOutput output = new HotOutput(JobOutput.STDERR_TAIL_BYTES);
        private String error;
        /** Written before each job; null until the container started. */
        private RequestScript script;
        /** What it had used when its last job ended: the next job's start, as the container idles between jobs. */
        private Usage used;
        int served;
        long lastUsedNanos = System.nanoTime();

        private Container(HotContainers owner, String id, Path dir) {
            this.owner = owner;
            this.id = id;
            this.dir = dir;
        }

        static Container start(HotContainers owner, RunRequest request) {
            Path dir = null;
            String id = null;
            try {
                dir = Files.createTempDirectory(owner.workDir, "hot-");
                // The container's user (any uid) opens the pipes by name: it may pass through, not list or create.
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
                Containers.mkfifo(dir.resolve("in"));
                Containers.mkfifo(dir.resolve("out"));
                id = owner.containers.create(Containers.withoutJob(request, request.command(), request.entrypoint()), HardenedContainers.Use.HOT, List.of(new Bind(dir.toString(), new Volume(HOT_DIR), AccessMode.rw)),
                        List.of("WHARF_HOT_IN=" + HOT_DIR + "/in", "WHARF_HOT_OUT=" + HOT_DIR + "/out", "WHARF_HOT_REQUEST=" + HOT_DIR + "/" + REQUEST_FILE));
                owner.docker.startContainerCmd(id).exec();
                Container c = new Container(owner, id, dir);
                c.script = new RequestScript(dir.resolve(REQUEST_FILE));
                owner.docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withFollowStream(true).withTimestamps(true)
                        .exec(c.output);
                Path inPath = dir.resolve("in");
                Path outPath = dir.resolve("out");
                // Opening a FIFO blocks until the other side opens it: do it aside, bounded by a deadline.
                CompletableFuture<Void> open = CompletableFuture.runAsync(() -> {
                    try {
                        c.in = new FileOutputStream(inPath.toFile());
                        c.out = new java.io.BufferedInputStream(new java.io.FileInputStream(outPath.toFile()), 1 << 16);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }, Containers.ASIDE);
                try {
                    open.get(Math.max(5_000, Math.min(30_000, request.timeout().toMillis())), TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    c.error = "its container did not open " + HOT_DIR + "/in and /out (the hot protocol) within the start deadline"
                            + c.exitHint();
                    unblock(inPath, outPath);
                    c.remove();
                    return c;
                }
                log.info("Warm container {} of {} ready", id.substring(0, 12), request.function());
                return c;
            } catch (IOException | DockerException e) {
                Container failed = new Container(owner, id, dir);
                failed.error = e.getMessage();
                failed.remove();
                return failed;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (id != null) {
                    new Container(owner, id, dir).remove();
                }
                return null;
            }
        }

        /** Runs one job; null if the container died or closed its pipe before answering. */
        RunOutcome call(RunRequest request, OutputListener listener, long pulledAt) {
            // The container serves job after job: a job's use is the difference over it, its peak since it began.
            Usage before = used != null ? used : owner.containers.usage(id);
            used = null;
            owner.containers.resetPeak(id);
            long started = System.currentTimeMillis();
            HotOutput.Job job = output.jobStarted(listener);
            try {
                // The job's HTTP request (if it came from one) for the container to source, before the line that starts it.
                script.write(HttpEnvironment.script(Containers.jobOnly(request)));
            } catch (IOException e) {
                return null;
            }
            CompletableFuture<Object> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    String line = request.jobId() + ' ' + Base64.getEncoder().encodeToString(request.payload()) + '\n';
                    in.write(line.getBytes(StandardCharsets.US_ASCII));
                    in.flush();
                    HotFraming.Line reply = HotFraming.readLine(out, HotFraming.maxLineBytes(request.maxBodyBytes()));
                    return reply == null ? null : HotFraming.parse(request.jobId(), reply, request.maxBodyBytes());
                } catch (HotFraming.Broken e) {
                    return e;
                } catch (IOException e) {
                    return null;
                }
            }, Containers.ASIDE);
            Object reply;
            try {
                reply = answer.get(request.timeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                kill();
                long now = System.currentTimeMillis();
                return new RunOutcome(null, true, false, new byte[0], false, job.stderrTail(STDERR_SETTLE),
                        null, request.image(), pulledAt, 0, started, now, 0);
            } catch (ExecutionException e) {
                reply = null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                return null;
            }
            long exited = System.currentTimeMillis();
            if (reply == null) {
                return null;
            }
            served++;
            if (reply instanceof HotFraming.Broken broke) {
                broken = true;
                log.warn("Warm container {} of {} broke the hot protocol; it is replaced: {}", id, request.function(), broke.getMessage());
                return new RunOutcome(null, false, false, new byte[0], false, job.stderrTail(STDERR_SETTLE),
                        "The job failed because " + broke.getMessage() + " (its container is replaced)", request.image(), pulledAt, 0,
                        started, exited, 0);
            }
            HotFraming.Answer parsed = (HotFraming.Answer) reply;
            // Only a failure reports its stderr, so only a failure waits for the last of it.
            String stderrTail = parsed.exitCode() == 0 ? null : job.stderrTail(STDERR_SETTLE);
            Usage after = before == null ? null : owner.containers.usage(id);
            used = after;
            return new RunOutcome(parsed.exitCode(), false, false, parsed.stdout(), parsed.truncated(), stderrTail, null, request.image(),
                    pulledAt, 0, started, exited, 0).withUsage(after == null ? null : after.since(before));
        }

        /** The outcome of a job whose container died twice under it: OOM if the kernel said so. */
        RunOutcome deathOutcome(long pulledAt) {
            boolean oom = false;
            Integer exit = null;
            try {
                InspectContainerResponse.ContainerState state = owner.docker.inspectContainerCmd(id).exec().getState();
                oom = Boolean.TRUE.equals(state.getOOMKilled());
                exit = state.getExitCodeLong() == null ? null : state.getExitCodeLong().intValue();
            } catch (DockerException e) {
                // removed already
            }
            long now = System.currentTimeMillis();
            return new RunOutcome(exit, false, oom, new byte[0], false, null,
                    oom ? null : "The warm container died during the job twice (exit code " + exit + ")", null, pulledAt, 0, now, now, 0);
        }

        private String exitHint() {
            try {
                InspectContainerResponse.ContainerState state = owner.docker.inspectContainerCmd(id).exec().getState();
                return Boolean.TRUE.equals(state.getRunning()) ? "" : " (it exited with code " + state.getExitCodeLong() + ")";
            } catch (DockerException e) {
                return "";
            }
        }

        private void kill() {
            owner.containers.kill(id);
        }

        void remove() {
            closeQuietly();
            if (script != null) {
                script.close();
            }
            if (id != null) {
                owner.containers.remove(id);
            }
            if (dir != null) {
                Containers.deleteQuietly(dir);
            }
            // After the removal, so that the follow has had the lines written up to the end.
            try {
                output.close();
            } catch (IOException e) {
                // closing anyway
            }
            output.end();
        }

        private void closeQuietly() {
            try {
                if (in != null) {
                    in.close();
                }
                if (out != null) {
                    out.close();
                }
            } catch (IOException e) {
                // closing anyway
            }
        }

        /** Opens the far ends so that a blocked open on our side returns, then gives up on them. */
        private static void unblock(Path in, Path out) {
            try (var r = new java.io.FileInputStream(in.toFile()); var w = new FileOutputStream(out.toFile())) {
                // nothing: opening was the point
            } catch (IOException e) {
                // the pipes are being torn down anyway
            }
        }
    }
}
