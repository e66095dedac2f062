package io.wharf.worker.docker;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ContainerConfig;
import com.github.dockerjava.api.model.Volume;

import io.wharf.worker.runtime.HttpEnvironment;
import io.wharf.worker.runtime.RunRequest;
import io.wharf.worker.runtime.WorkerMeters;

/**
 * Fresh containers started ahead of need, so a cold job skips the engine's create and start (most of a cold
 * job's time). Each container still serves exactly one job and is removed after it: only its start moved
 * earlier. A pre-started container runs a small shim (the host's static busybox, bind-mounted read-only) that
 * waits on a FIFO for the job id and attempt, then {@code exec}s the function's own entrypoint and command with
 * the payload file on stdin, so the function's process is PID 1 of its container exactly as on the plain path.
 *
 * <p>Functions are served this way once they have had a job in the last idle TTL; up to {@code perFunction}
 * containers each wait ready, and are removed when the function goes idle.
 */
final class Prestarter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Prestarter.class);
    static final String CTL_DIR = "/wharf/ctl";
    static final String SHIM = "/wharf/shim/sh";
    /** Resolves argv[0] on PATH itself: busybox's shell would otherwise prefer its own applets to the image's programs. */
    private static final String SHIM_SCRIPT = """
            read -r WHARF_JOB_ID WHARF_ATTEMPT < /wharf/ctl/go || exit 125
            export WHARF_JOB_ID WHARF_ATTEMPT
            if [ -r /wharf/ctl/env ]; then . /wharf/ctl/env; fi
            p="$1"; shift
            case "$p" in */*) ;; *) IFS=:; for d in $PATH; do if [ -x "$d/$p" ]; then p="$d/$p"; break; fi; done; unset IFS;; esac
            exec "$p" "$@" < /wharf/ctl/payload
            """;

    /** A started container whose shim waits for its job. */
    record Ready(String containerId, Path ctlDir, long createdAt, long startedAt) {
    }

    private final DockerClient docker;
    private final Path workDir;
    private final Path shim;
    private final int perFunction;
    private final Duration idleTtl;
    private final HardenedContainers containers;
    private final Map<String, Pool> pools = new HashMap<>();
    private final Map<String, List<String>> argvByImage = new ConcurrentHashMap<>();
    private final ScheduledExecutorService janitor = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("wharf-prestart-janitor").factory());
    private volatile boolean closed;
    /** CPU use at or above which the machine counts as saturated. */
    private static final double SATURATED = 0.85;
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private volatile boolean cpuSaturated;
    /** Containers being started right now; close() waits for them so none outlives the worker. */
    private final java.util.concurrent.atomic.AtomicInteger starting = new java.util.concurrent.atomic.AtomicInteger();

    private final WorkerMeters meters;

    Prestarter(DockerClient docker, Path workDir, Path shim, int perFunction, Duration idleTtl, HardenedContainers containers, WorkerMeters meters) {
        this.meters = meters;
        meters.gauge(WorkerMeters.PRESTARTED, this::readyCount);
        this.docker = docker;
        this.workDir = workDir;
        this.shim = shim;
        this.perFunction = perFunction;
        this.idleTtl = idleTtl;
        this.containers = containers;
        janitor.scheduleWithFixedDelay(this::retireIdle, 1, 1, TimeUnit.SECONDS);
        janitor.scheduleWithFixedDelay(this::sampleCpu, 250, 250, TimeUnit.MILLISECONDS);
    }

    /** Pre-started containers ready now, across functions (read by a gauge). */
    private int readyCount() {
        List<Pool> all;
        synchronized (pools) {
            all = List.copyOf(pools.values());
        }
        int n = 0;
        for (Pool p : all) {
            synchronized (p) {
                n += p.ready.size();
            }
        }
        return n;
    }

    /** The machine's CPU use over the last quarter second (negative when the platform cannot tell: then never saturated). */
    private void sampleCpu() {
        cpuSaturated = os.getCpuLoad() >= SATURATED;
    }

    /**
     * A ready container for this request, or null (then the caller starts one itself); asks for replacements
     * unless the machine is saturated. When none is ready but one is being started, it waits for that one up to
     * {@code maxWait}: a start already under way finishes sooner than a new one.
     *
     * <p>{@code jobsRunning} counts the cold jobs under way, this one included. With two or more of them and the
     * CPU busy, no replacement is started: a pre-start takes a job's start off its critical path, which helps while
     * jobs wait on starts, but when jobs already run side by side on a CPU-bound machine their starts overlap anyway,
     * and a pre-started container costs more than a plain one: measured with the runner alone on 2 cores, 48 jobs
     * 4 at a time, 0.244 against 0.224 CPU-seconds per job.
     */
    Ready take(RunRequest request, Duration maxWait, int jobsRunning) throws InterruptedException {
        if (closed || perFunction <= 0) {
            return null;
        }
        Pool pool;
        synchronized (pools) {
            pool = pools.computeIfAbsent(Containers.key(request), k -> new Pool());
        }
        synchronized (pool) {
            pool.lastDemand = System.nanoTime();
            long deadline = System.nanoTime() + maxWait.toNanos();
            // Wait only for a start no other waiting job has claimed; beyond those, start one for this job at once.
            pool.waiters++;
            try {
                while (pool.ready.isEmpty() && pool.starting >= pool.waiters && System.nanoTime() < deadline) {
                    pool.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                }
            } finally {
                pool.waiters--;
            }
            Ready ready = pool.ready.poll();
            meters.prestartTaken(request.function(), ready != null);
            int missing = jobsRunning >= 2 && cpuSaturated ? 0 : perFunction - pool.ready.size() - pool.starting;
            pool.starting += Math.max(0, missing);
            for (int i = 0; i < missing; i++) {
                Thread.ofVirtual().name("wharf-prestart").start(() -> fill(pool, request));
            }
            return ready;
        }
    }

    /** The job's own variables (its HTTP request) as a file the shim sources: each value single-quoted, so none is code. */
    private static void writeJobEnv(Path file, Map<String, String> env) throws IOException {
        if (env.isEmpty()) {
            return;
        }
        Files.writeString(file, HttpEnvironment.script(env));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** Hands the job to a ready container: payload file first, then the line its shim waits for. */
    boolean go(Ready ready, RunRequest request) {
        Path go = ready.ctlDir().resolve("go");
        CompletableFuture<Void> write = null;
        try {
            Path payload = ready.ctlDir().resolve("payload");
            Files.write(payload, request.payload());
            Files.setPosixFilePermissions(payload, PosixFilePermissions.fromString("rw-r--r--"));
            writeJobEnv(ready.ctlDir().resolve("env"), Containers.jobOnly(request));
            byte[] line = (request.jobId().replace(' ', '_') + " " + request.attempt() + "\n").getBytes(StandardCharsets.UTF_8);
            // Opening a FIFO for writing blocks until its reader is there; a dead shim must not hold the job.
            write = CompletableFuture.runAsync(() -> {
                try (FileOutputStream out = new FileOutputStream(go.toFile())) {
                    out.write(line);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, Containers.PIPES);
            write.get(5, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            log.info("Pre-started container {} did not take job {} ({}); running it on a new container", ready.containerId(), request.jobId(),
                    e.toString());
            if (write != null && !write.isDone()) {
                Containers.releaseWriter(go);
            }
            discard(ready);
            return false;
        }
    }

    private void fill(Pool pool, RunRequest request) {
        Ready ready = null;
        starting.incrementAndGet();
        try {
            ready = start(request);
        } finally {
            boolean keep;
            synchronized (pool) {
                pool.starting--;
                keep = ready != null && !closed && !pool.retired;
                if (keep) {
                    pool.ready.add(ready);
                }
                pool.notifyAll();
            }
            if (ready != null && !keep) {
                remove(ready.containerId(), ready.ctlDir());
            }
            starting.decrementAndGet();
        }
    }

    private Ready start(RunRequest request) {
        List<String> argv = argv(request);
        if (argv.isEmpty()) {
            return null;
        }
        Path dir = null;
        String id = null;
        try {
            dir = Files.createTempDirectory(workDir, "pre-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Containers.mkfifo(dir.resolve("go"));
            RunRequest shimmed = Containers.withoutJob(request, argv,
                    List.of(SHIM, "-c", SHIM_SCRIPT, "wharf-shim"));
            long createdAt = System.currentTimeMillis();
            id = containers.create(shimmed, HardenedContainers.Use.PRESTARTED, List.of(new Bind(dir.toString(), new Volume(CTL_DIR), AccessMode.ro),
                    new Bind(shim.toString(), new Volume(SHIM), AccessMode.ro)), List.of("PAYLOAD_FILE=" + CTL_DIR + "/payload"));
            docker.startContainerCmd(id).exec();
            return new Ready(id, dir, createdAt, System.currentTimeMillis());
        } catch (IOException | DockerException e) {
            log.info("Could not pre-start a container for {}: {}", request.function(), e.getMessage());
            remove(id, dir);
            return null;
        }
    }

    /** What the container would run without the shim: the function's overrides, else the image's entrypoint and cmd. */
    private List<String> argv(RunRequest request) {
        return argvByImage.computeIfAbsent(request.image() + '\n' + request.entrypoint() + '\n' + request.command(), k -> {
            List<String> entrypoint = request.entrypoint();
            List<String> cmd = request.command();
            if (entrypoint == null) {
                // As Docker does: an overridden entrypoint drops the image's cmd; otherwise both come from the image.
                ContainerConfig config = docker.inspectImageCmd(request.image()).exec().getConfig();
                entrypoint = config == null || config.getEntrypoint() == null ? List.of() : List.of(config.getEntrypoint());
                if (cmd.isEmpty()) {
                    cmd = config == null || config.getCmd() == null ? List.of() : List.of(config.getCmd());
                }
            }
            List<String> argv = new ArrayList<>(entrypoint);
            argv.addAll(cmd);
            return List.copyOf(argv);
        });
    }

    void discard(Ready ready) {
        Thread.ofVirtual().start(() -> remove(ready.containerId(), ready.ctlDir()));
    }

    private void remove(String id, Path dir) {
        if (id != null) {
            containers.remove(id);
        }
        if (dir != null) {
            Containers.deleteQuietly(dir);
        }
    }

    private void retireIdle() {
        List<Ready> expired = new ArrayList<>();
        synchronized (pools) {
            pools.values().removeIf(pool -> {
                synchronized (pool) {
                    if (System.nanoTime() - pool.lastDemand > idleTtl.toNanos()) {
                        pool.retired = true;
                        expired.addAll(pool.ready);
                        pool.ready.clear();
                        return true;
                    }
                    return false;
                }
            });
        }
        expired.forEach(r -> remove(r.containerId(), r.ctlDir()));
    }

    @Override
    public void close() {
        closed = true;
        janitor.shutdownNow();
        List<Ready> all = new ArrayList<>();
        synchronized (pools) {
            for (Pool pool : pools.values()) {
                synchronized (pool) {
                    pool.retired = true;
                    all.addAll(pool.ready);
                    pool.ready.clear();
                }
            }
            pools.clear();
        }
        all.forEach(r -> remove(r.containerId(), r.ctlDir()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (starting.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static final class Pool {
        final ArrayDeque<Ready> ready = new ArrayDeque<>();
        int starting;
        int waiters;
        long lastDemand = System.nanoTime();
        boolean retired;
    }
}
