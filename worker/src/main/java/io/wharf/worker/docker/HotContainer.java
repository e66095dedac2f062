package io.wharf.worker.docker;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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

/**
 * One warm container of a hot function and its FIFO pair (the protocol is {@link HotContainers}'): started with its
 * pipes open, it answers one job at a time until it is removed.
 */
final class HotContainer {
    private static final Logger log = LoggerFactory.getLogger(HotContainer.class);
    /** How long a failed job's stderr may trail its answer on the FIFO (the engine's log path is a few ms). */
    private static final java.time.Duration STDERR_SETTLE = java.time.Duration.ofMillis(100);

    private final DockerClient docker;
    private final HardenedContainers containers;
    private final String id;
    private final Path dir;
    private OutputStream in;
    private java.io.InputStream out;
    /** It broke the protocol: it gets no further job. */
    volatile boolean broken;
    /** Its stdout and stderr, which are free for the function's own lines (the protocol has the FIFOs). */
    private final HotOutput output = new HotOutput(JobOutput.STDERR_TAIL_BYTES);
    /** Why it could not start; null once it did. */
    String error;
    /** Written before each job; null until the container started. */
    private RequestScript script;
    /** What it had used when its last job ended: the next job's start, as the container idles between jobs. */
    private Usage used;
    int served;
    long lastUsedNanos = System.nanoTime();

    private HotContainer(DockerClient docker, HardenedContainers containers, String id, Path dir) {
        this.docker = docker;
        this.containers = containers;
        this.id = id;
        this.dir = dir;
    }

    static HotContainer start(DockerClient docker, HardenedContainers containers, Path workDir, RunRequest request) {
        Path dir = null;
        String id = null;
        try {
            dir = Files.createTempDirectory(workDir, "hot-");
            // The container's user (any uid) opens the pipes by name: it may pass through, not list or create.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x--x"));
            Containers.mkfifo(dir.resolve("in"));
            Containers.mkfifo(dir.resolve("out"));
            String hot = HotContainers.HOT_DIR;
            id = containers.create(Containers.withoutJob(request, request.command(), request.entrypoint()), HardenedContainers.Use.HOT,
                    List.of(new Bind(dir.toString(), new Volume(hot), AccessMode.rw)),
                    List.of("WHARF_HOT_IN=" + hot + "/in", "WHARF_HOT_OUT=" + hot + "/out",
                            "WHARF_HOT_REQUEST=" + hot + "/" + HotContainers.REQUEST_FILE));
            docker.startContainerCmd(id).exec();
            HotContainer c = new HotContainer(docker, containers, id, dir);
            c.script = new RequestScript(dir.resolve(HotContainers.REQUEST_FILE));
            docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withFollowStream(true).withTimestamps(true)
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
            }, Containers.PIPES);
            try {
                open.get(Math.max(5_000, Math.min(30_000, request.timeout().toMillis())), TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                c.error = "its container did not open " + HotContainers.HOT_DIR + "/in and /out (the hot protocol) within the start deadline"
                        + c.exitHint();
                unblock(inPath, outPath);
                c.remove();
                return c;
            }
            log.info("Warm container {} of {} ready", id.substring(0, 12), request.function());
            return c;
        } catch (IOException | DockerException e) {
            HotContainer failed = new HotContainer(docker, containers, id, dir);
            failed.error = e.getMessage();
            failed.remove();
            return failed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (id != null) {
                new HotContainer(docker, containers, id, dir).remove();
            }
            return null;
        }
    }

    /** Runs one job; null if the container died or closed its pipe before answering. */
    RunOutcome call(RunRequest request, OutputListener listener, long pulledAt) {
        // The container serves job after job: a job's use is the difference over it, its peak since it began.
        Usage before = used != null ? used : containers.usage(id);
        used = null;
        containers.resetPeak(id);
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
        }, Containers.PIPES);
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
        Usage after = before == null ? null : containers.usage(id);
        used = after;
        return new RunOutcome(parsed.exitCode(), false, false, parsed.stdout(), parsed.truncated(), stderrTail, null, request.image(),
                pulledAt, 0, started, exited, 0).withUsage(after == null ? null : after.since(before));
    }

    /** The outcome of a job whose container died twice under it: OOM if the kernel said so. */
    RunOutcome deathOutcome(long pulledAt) {
        boolean oom = false;
        Integer exit = null;
        try {
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id).exec().getState();
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
            InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id).exec().getState();
            return Boolean.TRUE.equals(state.getRunning()) ? "" : " (it exited with code " + state.getExitCodeLong() + ")";
        } catch (DockerException e) {
            return "";
        }
    }

    void kill() {
        containers.kill(id);
    }

    void remove() {
        closeQuietly();
        if (script != null) {
            script.close();
        }
        if (id != null) {
            containers.remove(id);
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
