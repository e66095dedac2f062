package io.wharf.worker.docker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.Volume;

import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.Labels;
import io.wharf.worker.runtime.OutputListener;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.worker.runtime.RunRequest;
import io.wharf.worker.runtime.Usage;
import io.wharf.worker.runtime.WorkerMeters;

/**
 * Runs jobs in fresh containers through docker-java. The path is: image present (pull once, concurrent
 * pulls of one image coalesced) → create with limits, hardening and labels → attach stdin → start → write
 * the payload and close stdin → wait up to the timeout (kill after it) → read logs → inspect (exit code,
 * {@code OOMKilled}) → remove. Logs are read from the engine after the exit, so a killed container still
 * has them.
 */
public final class DockerContainerRunner implements ContainerRunner {
    private static final Logger log = LoggerFactory.getLogger(DockerContainerRunner.class);

    static final String PAYLOAD_DIR = "/wharf";
    static final String PAYLOAD_FILE = PAYLOAD_DIR + "/payload";
    /** A container start under way for the function is awaited this long before starting another for the job. */
    private static final Duration PRESTART_WAIT = Duration.ofMillis(300);
    /** A job the engine cut short runs again once it is back within this; otherwise the worker cannot go on. */
    private static final Duration ENGINE_RETURN_TIMEOUT = Duration.ofMinutes(2);
    /** Engine restarts one job is run again through, at most; past that its last outcome stands. */
    private static final int MAX_ENGINE_RESTARTS = 3;
    /** Cold jobs under way (pre-started or not), which decides whether pre-starting pays. */
    private final java.util.concurrent.atomic.AtomicInteger coldJobs = new java.util.concurrent.atomic.AtomicInteger();

    private final DockerClient docker;
    private final EngineWatch engine;
    private final HardenedContainers containers;
    /** This runner's private directory (see {@link PrivateWorkDir}): payload files and warm containers' pipes. */
    private final Path workDir;
    private final PrivateWorkDir privateDir;
    private final ImageCache images;
    private final HotContainers hot;
    private final HttpServers httpServers;
    private final Prestarter prestarter;
    private final java.util.Set<CompletableFuture<Void>> pendingRemovals = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final OomEvents oomEvents;
    private final WorkerMeters meters;
    /** Job id to container, for runs on pre-started containers (which carry no job label). */
    private final Map<String, String> active = new java.util.concurrent.ConcurrentHashMap<>();
    /** Jobs whose container Wharf killed (a cancel): their end is no engine's doing. */
    private final java.util.Set<String> killed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A runner for {@code owner} (a worker's id): its containers carry it, and {@link #removeStale()} removes them. */
    public DockerContainerRunner(DockerClient docker, String owner, Path workDir, long pullTimeoutMillis) {
        this(docker, owner, workDir, new Options(pullTimeoutMillis, Long.MAX_VALUE, 0, null, false, Options.CGROUP_ROOT));
    }

    /**
     * How a runner pulls and pre-starts.
     *
     * @param imageBudgetBytes    bounds the disk used by images this runner pulled (least recently used go first)
     * @param prestartPerFunction with a static busybox at {@code shim}, that many fresh containers per recently used
     *                            function are started ahead of need (see {@link Prestarter}); 0 for none
     * @param hostCredentials     functions without registry credentials pull with the host's Docker credentials
     * @param cgroupRoot          where the engine's cgroup file system is seen, to measure jobs' resource use (see
     *                            {@link Cgroups}); null measures nothing
     */
    public record Options(long pullTimeoutMillis, long imageBudgetBytes, int prestartPerFunction, Path shim, boolean hostCredentials,
                          Path cgroupRoot) {
        public static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
    }

    public DockerContainerRunner(DockerClient docker, String owner, Path workDir, Options options) {
        this(docker, owner, workDir, options, WorkerMeters.none());
    }

    /** A runner recording its warm pools, pre-starts and image cache in {@code meters}. */
    public DockerContainerRunner(DockerClient docker, String owner, Path workDir, Options options, WorkerMeters meters) {
        long pullTimeoutMillis = options.pullTimeoutMillis();
        int prestartPerFunction = options.prestartPerFunction();
        Path shim = options.shim();
        this.docker = docker;
        this.meters = meters;
        this.engine = new EngineWatch(docker);
        this.containers = new HardenedContainers(docker, owner, Cgroups.detect(docker, options.cgroupRoot(), owner));
        this.privateDir = PrivateWorkDir.open("wharf.worker.work.dir", workDir, owner);
        this.workDir = privateDir.path();
        this.images = new ImageCache(docker, pullTimeoutMillis, options.imageBudgetBytes(), options.hostCredentials(), meters);
        this.hot = new HotContainers(docker, this.workDir, containers, meters);
        this.httpServers = new HttpServers(docker, containers, shim != null && usableShim(shim) ? shim : null, prestartPerFunction, meters);
        this.oomEvents = new OomEvents(docker, engine);
        this.prestarter = prestartPerFunction > 0 && usableShim(shim)
                ? new Prestarter(docker, this.workDir, shim, prestartPerFunction, Duration.ofSeconds(60), containers, meters)
                : null;
    }

    @Override
    public RunOutcome run(RunRequest request, OutputListener output) throws InterruptedException {
        String imageError = images.acquire(request.image(), request.registryUsername(), request.registryPassword());
        long pulledAt = System.currentTimeMillis();
        if (imageError != null) {
            return RunOutcome.failedToRun(imageError, 0);
        }
        try {
            if (request.forward() != null) {
                return httpServers.run(request, output, pulledAt);
            }
            if (request.hot() != null) {
                return hot.run(request, output, pulledAt);
            }
            for (int restarts = 0; ; restarts++) {
                long epoch = engine.epoch();
                RunOutcome outcome = runPresent(request, output, pulledAt);
                if (killed.contains(request.jobId()) || restarts >= MAX_ENGINE_RESTARTS || !engine.cutShort(outcome, epoch)) {
                    return outcome;
                }
                log.warn("The Docker engine stopped under job {} ({}): once it is back, the job runs again, not counted as an attempt",
                        request.jobId(), outcome.error() != null ? outcome.error() : "exit " + outcome.exitCode());
                engine.awaitBack(ENGINE_RETURN_TIMEOUT);
                // The cut-short run's container, whose removal the engine may have refused while away: a fresh one
                // carries the job's label, a pre-started one the job's name.
                containers.ofJob(request.jobId()).forEach(this::remove);
                removeQuietly(Labels.jobContainerName(request.jobId(), request.attempt()));
            }
        } finally {
            killed.remove(request.jobId());
            images.release(request.image());
        }
    }

    private void removeQuietly(String container) {
        try {
            docker.removeContainerCmd(container).withForce(true).exec();
        } catch (DockerException e) {
            // gone already
        }
    }

    private RunOutcome runPresent(RunRequest request, OutputListener output, long pulledAt) throws InterruptedException {
        coldJobs.incrementAndGet();
        try {
            Prestarter.Ready ready = prestarter == null ? null : prestarter.take(request, PRESTART_WAIT, coldJobs.get());
            if (ready != null) {
                RunOutcome outcome = runPrestarted(ready, request, output, pulledAt);
                if (outcome != null) {
                    return outcome;
                }
            }
            return runPlain(request, output, pulledAt);
        } finally {
            coldJobs.decrementAndGet();
        }
    }

    private RunOutcome runPlain(RunRequest request, OutputListener output, long pulledAt) throws InterruptedException {
        Path payloadDir = null;
        String containerId = null;
        long createdAt = 0, startedAt = 0, exitedAt = 0;
        try {
            payloadDir = writePayload(request);
            containerId = create(request, payloadDir);
            createdAt = System.currentTimeMillis();

            // Attach stdin alone. docker-java flushes each chunk it copies but never half-closes the socket, so
            // end-of-file reaches the container (stdin-once) only when the attach connection closes: close it as
            // soon as the last byte has been handed to the socket.
            CountDownLatch payloadSent = new CountDownLatch(1);
            ResultCallback.Adapter<Frame> stdin = docker.attachContainerCmd(containerId)
                    .withStdIn(new EofSignallingInputStream(request.payload(), payloadSent))
                    .withFollowStream(true)
                    .exec(new ResultCallback.Adapter<>());
            stdin.awaitStarted(10, TimeUnit.SECONDS);
            docker.startContainerCmd(containerId).exec();
            startedAt = System.currentTimeMillis();
            // Follow the output from the start: lines reach the listener while the job runs, and the engine
            // keeps them after an OOM kill or a timeout kill, so nothing written before the end is lost.
            JobOutput.Live live = docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true).withFollowStream(true)
                    .exec(new JobOutput.Live(output));
            payloadSent.await(request.timeout().toMillis(), TimeUnit.MILLISECONDS);
            stdin.close();
            String id = containerId;
            containerId = null; // finish() removes it
            return finish(id, request, output, live, pulledAt, createdAt, startedAt, null);
        } catch (RuntimeException e) {
            if (!engineFailure(e)) {
                throw e;
            }
            log.warn("Docker failed running job {}: {}", request.jobId(), e.getMessage());
            return new RunOutcome(null, false, false, new byte[0], false, null,
                    "The container engine failed to run image " + request.image() + ": " + e.getMessage(), null,
                    pulledAt, createdAt, startedAt, exitedAt, 0);
        } catch (IOException e) {
            return RunOutcome.failedToRun("Could not write the payload file for job " + request.jobId() + ": " + e, pulledAt);
        } finally {
            // An abandoned attempt arrives here interrupted; engine calls would fail at once, so clean up first
            // and restore the flag after: the container must not outlive the attempt.
            boolean interrupted = Thread.interrupted();
            if (containerId != null) {
                remove(containerId);
            }
            if (payloadDir != null) {
                Containers.deleteQuietly(payloadDir);
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private String create(RunRequest request, Path payloadDir) {
        return containers.create(request, HardenedContainers.Use.JOB,
                List.of(new Bind(payloadDir.toString(), new Volume(PAYLOAD_DIR), AccessMode.ro)), List.of("PAYLOAD_FILE=" + PAYLOAD_FILE));
    }

    /** Runs the job on a container started ahead of it; null if that container would not take it. */
    private RunOutcome runPrestarted(Prestarter.Ready ready, RunRequest request, OutputListener output, long pulledAt) throws InterruptedException {
        JobOutput.Live live = docker.logContainerCmd(ready.containerId()).withStdOut(true).withStdErr(true).withFollowStream(true)
                .exec(new JobOutput.Live(output));
        active.put(request.jobId(), ready.containerId());
        try {
            // What it used waiting for a job is not the job's.
            Usage waiting = containers.usage(ready.containerId());
            containers.resetPeak(ready.containerId());
            if (!prestarter.go(ready, request)) {
                closeQuietly(live);
                return null;
            }
            nameAfterJob(ready.containerId(), request);
            return finish(ready.containerId(), request, output, live, pulledAt, ready.createdAt(), System.currentTimeMillis(), waiting);
        } finally {
            active.remove(request.jobId());
            Containers.deleteQuietly(ready.ctlDir());
        }
    }

    /**
     * Gives a pre-started container its job's name ({@link Labels#jobContainerName}), aside from the job: its labels were
     * fixed before the job was known, and the name is what {@code docker ps --filter name=...} finds it by.
     */
    private void nameAfterJob(String containerId, RunRequest request) {
        Containers.ASIDE.execute(() -> {
            try {
                docker.renameContainerCmd(containerId).withName(Labels.jobContainerName(request.jobId(), request.attempt())).exec();
            } catch (DockerException e) {
                log.debug("Could not name container {} after job {}: {}", containerId, request.jobId(), e.getMessage());
            }
        });
    }

    private static boolean usableShim(Path shim) {
        try {
            byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(shim), 8192);
            String text = new String(head, StandardCharsets.ISO_8859_1);
            if (!text.contains("ld-linux") && !text.contains("ld-musl")) {
                return true;
            }
            log.warn("{} is not a static busybox: containers will not be started ahead of need (set wharf.worker.shim.path)", shim);
        } catch (IOException | NullPointerException e) {
            log.warn("No static busybox at {}: containers will not be started ahead of need (set wharf.worker.shim.path)", shim);
        }
        return false;
    }

    /**
     * Waits for a started container up to the job's timeout (killing it after), collects its output and state,
     * and removes it, whatever happens on the way.
     */
    RunOutcome finish(String containerId, RunRequest request, OutputListener output, JobOutput.Live live, long pulledAt, long createdAt,
                      long startedAt, Usage before) throws InterruptedException {
        long exitedAt = 0;
        try {
            boolean timedOut = false;
            try {
                docker.waitContainerCmd(containerId).exec(new WaitContainerResultCallback())
                        .awaitStatusCode(request.timeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (DockerClientException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException("interrupted while waiting for the container");
                }
                timedOut = true;
                containers.kill(containerId);
                docker.waitContainerCmd(containerId).exec(new WaitContainerResultCallback()).awaitStatusCode(30, TimeUnit.SECONDS);
            }
            exitedAt = System.currentTimeMillis();
            // Its processes ended: their use is final (kept by the container's own cgroup parent after it goes).
            Usage used = containers.usage(containerId);
            if (used != null && before != null) {
                used = used.since(before);
            }
            if (!live.awaitCompletion(10, TimeUnit.SECONDS)) {
                log.warn("Output of job {} did not end 10 s after its container exited; closing it", request.jobId());
            }
            closeQuietly(live);
            // The engine may end a follow before the last, unterminated line is delivered; a final read is
            // complete. It yields the body and stderr tail, and hands the listener what the follow missed.
            String id = containerId;
            CompletableFuture<InspectContainerResponse> inspecting = CompletableFuture.supplyAsync(
                    () -> docker.inspectContainerCmd(id).exec(), Containers.ASIDE); // alongside the log read
            JobOutput.Final logs = docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true).withFollowStream(false)
                    .exec(new JobOutput.Final(request.maxBodyBytes(), live, output));
            logs.awaitCompletion();
            output.onEnd();
            InspectContainerResponse inspect;
            try {
                inspect = inspecting.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new DockerClientException("Could not inspect container " + id + ": " + e.getMessage(), e);
            }
            InspectContainerResponse.ContainerState state = inspect.getState();
            String imageId = inspect.getImageId();
            boolean oomKilled = Boolean.TRUE.equals(state.getOOMKilled()) | oomEvents.take(containerId);
            Long exit = state.getExitCodeLong();
            if (!oomKilled && !timedOut && exit != null && exit == 137) {
                // Killed, and not by us: most likely the kernel, whose report may trail the exit. Look once more.
                Thread.sleep(100);
                oomKilled = oomEvents.take(containerId)
                        || Boolean.TRUE.equals(docker.inspectContainerCmd(containerId).exec().getState().getOOMKilled());
            }
            // Everything the result needs is read: the removal need not delay it (close() waits for removals).
            removeLater(containerId, request.function());
            containerId = null;
            return new RunOutcome(state.getExitCodeLong() == null ? null : state.getExitCodeLong().intValue(), timedOut,
                    oomKilled, logs.stdout(), logs.truncated(), logs.stderrTail(), null, imageId,
                    pulledAt, createdAt, startedAt, exitedAt, 0).withUsage(used);
        } catch (RuntimeException e) {
            if (!engineFailure(e)) {
                throw e;
            }
            closeQuietly(live);
            log.warn("Docker failed running job {}: {}", request.jobId(), e.getMessage());
            return new RunOutcome(null, false, false, new byte[0], false, null,
                    "The container engine failed to run image " + request.image() + ": " + e.getMessage(), null,
                    pulledAt, createdAt, startedAt, exitedAt, 0);
        } finally {
            if (containerId != null) {
                boolean interrupted = Thread.interrupted();
                remove(containerId);
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * Whether {@code e} is the engine failing, not Wharf: its API's errors, and its transport's (a socket that vanished
     * while it restarts comes as a bare RuntimeException over an IOException); the run's outcome then says so.
     */
    private static boolean engineFailure(RuntimeException e) {
        return e instanceof DockerException || e instanceof DockerClientException || e.getCause() instanceof IOException;
    }

    private void removeLater(String containerId, String function) {
        CompletableFuture<Void> removal = CompletableFuture.runAsync(() -> meters.stop(function, () -> remove(containerId)), Containers.ASIDE);
        pendingRemovals.add(removal);
        removal.whenComplete((ok, error) -> pendingRemovals.remove(removal));
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException e) {
            // a log stream of a container that is going away
        }
    }

    private Path writePayload(RunRequest request) throws IOException {
        Path dir = Files.createTempDirectory(workDir, safe(request.jobId()) + "-" + request.attempt() + "-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = Files.write(dir.resolve("payload"), request.payload());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        return dir;
    }

    private void remove(String containerId) {
        containers.remove(containerId);
    }

    @Override
    public boolean answers() {
        return engine.answers();
    }

    @Override
    public void kill(String jobId) {
        if (hot.kill(jobId) || httpServers.kill(jobId)) {
            return;
        }
        killed.add(jobId);
        String prestarted = active.get(jobId);
        if (prestarted != null) {
            containers.kill(prestarted);
            return;
        }
        containers.ofJob(jobId).forEach(containers::kill);
    }

    @Override
    public int removeStale() {
        List<String> stale = containers.all();
        stale.forEach(this::remove);
        containers.removeStaleCgroups();
        return stale.size();
    }

    private static String safe(String jobId) {
        String s = jobId.replaceAll("[^a-zA-Z0-9_.-]", "_");
        return s.length() > 60 ? s.substring(0, 60) : s;
    }

    @Override
    public void close() {
        oomEvents.close();
        hot.close();
        httpServers.close();
        if (prestarter != null) {
            prestarter.close();
        }
        try {
            CompletableFuture.allOf(pendingRemovals.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.warn("Some finished containers could not be removed: {}", e.toString());
        }
        privateDir.close();
    }
}
