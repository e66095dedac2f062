package io.wharf.worker.docker;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.wharf.worker.runtime.EventEnvironment;
import io.wharf.worker.runtime.HttpEnvironment;
import io.wharf.worker.runtime.RunRequest;

/** What warm and pre-started containers share: both are made before (or for more than) one job. */
final class Containers {
    /** Environment variables that name one job; a container made before its job cannot carry them. */
    private static final Set<String> JOB_ENV = Set.of("WHARF_JOB_ID", "WHARF_ATTEMPT");
    /** The job's trace context (W3C): given to a warm or pre-started container with each job, as its HTTP request is. */
    private static final Set<String> TRACE_ENV = Set.of("TRACEPARENT", "TRACESTATE");

    /** True for a variable of one job: its id and attempt, its trace context, and the HTTP request or event it came from. */
    static boolean ofJob(String name) {
        return JOB_ENV.contains(name) || TRACE_ENV.contains(name) || name.startsWith(HttpEnvironment.PREFIX) || name.startsWith(EventEnvironment.PREFIX);
    }

    /** The request's variables of its job alone, besides its id and attempt (which the shim reads from its FIFO). */
    static Map<String, String> jobOnly(RunRequest request) {
        Map<String, String> env = new java.util.TreeMap<>(request.env());
        env.keySet().removeIf(name -> !ofJob(name) || JOB_ENV.contains(name));
        return env;
    }

    /** Engine calls made aside from a job's own thread: removals, inspections (socket I/O, which parks a virtual thread). */
    static final ExecutorService ASIDE = Executors.newVirtualThreadPerTaskExecutor();
    /**
     * Where FIFOs are opened, written and read: platform threads. A FIFO is a file, and a virtual thread blocked in a
     * file's open or read holds its carrier until it returns: a few hot jobs awaiting their containers' answers (one
     * carrier per core) would stall every other virtual thread of the process, the gateway's requests in {@code wharf
     * dev} among them. A platform thread just sleeps in the kernel; idle ones go after a minute.
     */
    static final ExecutorService PIPES = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("wharf-pipe-", 0).factory());

    private Containers() {
    }

    /**
     * The request with what belongs to one job taken out (its env and payload), running {@code command} and
     * {@code entrypoint}: what a container made before its job, or for many jobs, may carry.
     */
    static RunRequest withoutJob(RunRequest request, List<String> command, List<String> entrypoint) {
        Map<String, String> env = new HashMap<>(request.env());
        env.keySet().removeIf(Containers::ofJob);
        return new RunRequest(request.jobId(), request.function(), request.attempt(), request.image(), command, entrypoint, env,
                request.memoryMb(), request.cpus(), request.timeout(), request.hostNetwork(), request.user(), new byte[0],
                request.maxBodyBytes(), null, null, request.hot());
    }

    /** Equal for requests whose containers would be made alike: a function whose spec changed gets new ones. */
    static String key(RunRequest r) {
        int env = 0; // the hash of its variables less the job's, as a map's (the sum of its entries'), without copying them
        for (Map.Entry<String, String> e : r.env().entrySet()) {
            if (!ofJob(e.getKey())) {
                env += e.hashCode();
            }
        }
        return r.function() + '|' + r.image() + '|' + Objects.hash(r.command(), r.entrypoint(), env, r.memoryMb(), r.cpus(),
                r.hostNetwork(), r.user(), r.hot());
    }

    /** Deletes a payload or control directory and what it holds, best effort. */
    static void deleteQuietly(Path dir) {
        try (var paths = java.nio.file.Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a directory that is gone already, or will be with the work directory
        }
    }

    /** Creates a FIFO anyone may open, as the container may run as another user. */
    static void mkfifo(Path path) throws IOException {
        try {
            Process p = new ProcessBuilder("mkfifo", "-m", "0666", path.toString()).redirectErrorStream(true).start();
            if (p.waitFor() != 0) {
                throw new IOException("mkfifo " + path + " failed: " + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while creating " + path, e);
        }
    }

    /**
     * Lets a writer blocked in opening {@code fifo} go: opened for reading and writing, a FIFO has its reader at once
     * without waiting for a writer (Linux), so the blocked open returns, its write fails or goes to no one, and its
     * thread ends instead of waiting for a reader that is dead.
     */
    static void releaseWriter(Path fifo) {
        try (FileChannel ignored = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // opening was the point
        } catch (IOException e) {
            // gone with its directory: nothing waits on it then
        }
    }
}
