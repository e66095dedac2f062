package io.wharf.worker.docker;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;

import io.wharf.worker.runtime.OutputListener;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.worker.runtime.RunRequest;
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
    private final Map<String, HotContainer> calls = new java.util.concurrent.ConcurrentHashMap<>();
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
        HotContainer container = pool.acquire(request);
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

    private RunOutcome call(HotContainer container, RunRequest request, OutputListener output, long pulledAt) {
        calls.put(request.jobId(), container);
        try {
            return container.call(request, output, pulledAt);
        } finally {
            calls.remove(request.jobId());
        }
    }

    /** Kills the warm container running this job (it is replaced for later jobs); false if none runs it. */
    boolean kill(String jobId) {
        HotContainer container = calls.get(jobId);
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

    /** The warm containers of one function version. */
    private final class Pool {
        private final RunRequest template;
        private final ArrayDeque<HotContainer> idle = new ArrayDeque<>();
        private final List<HotContainer> all = new ArrayList<>();
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
                    HotContainer c = start(template);
                    if (c != null) {
                        release(c);
                    }
                });
            }
        }

        HotContainer acquire(RunRequest request) throws InterruptedException {
            boolean waited = false;
            synchronized (this) {
                while (true) {
                    HotContainer c = idle.pollLast(); // most recently used: its caches are warm
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
            HotContainer c = null;
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

        private HotContainer start(RunRequest request) {
            HotContainer c = HotContainer.start(docker, containers, workDir, request);
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

        synchronized void release(HotContainer c) {
            if (c.served >= template.hot().maxJobsPerContainer()) {
                all.remove(c);
                Thread.ofVirtual().start(c::remove);
            } else {
                c.lastUsedNanos = System.nanoTime();
                idle.add(c);
            }
            notifyAll();
        }

        synchronized void discard(HotContainer c) {
            all.remove(c);
            idle.remove(c);
            Thread.ofVirtual().start(c::remove);
            notifyAll();
        }

        /** Retires idle containers past their TTL, keeping {@code floor}; true if the pool is empty afterwards. */
        boolean retireIdle(int floor) {
            long ttl = template.hot().idleTtl().toNanos();
            List<HotContainer> expired = new ArrayList<>();
            boolean empty;
            synchronized (this) {
                for (HotContainer c : idle) {
                    if (System.nanoTime() - c.lastUsedNanos > ttl && all.size() - expired.size() > floor) {
                        expired.add(c);
                    }
                }
                idle.removeAll(expired);
                all.removeAll(expired);
                empty = all.isEmpty() && starting == 0;
            }
            expired.forEach(HotContainer::remove);
            return empty;
        }

        void close() {
            List<HotContainer> containers;
            synchronized (this) {
                containers = new ArrayList<>(all);
                all.clear();
                idle.clear();
            }
            containers.forEach(HotContainer::remove);
        }
    }
}
