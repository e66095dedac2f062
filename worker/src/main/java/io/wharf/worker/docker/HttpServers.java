package io.wharf.worker.docker;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.api.model.Volume;

import io.wharf.worker.runtime.OutputListener;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.worker.runtime.RunRequest;
import io.wharf.worker.runtime.Usage;
import io.wharf.worker.runtime.WorkerMeters;

/**
 * HTTP-server functions: an unchanged web-server image, its container started per request (or taken ready from a
 * few started ahead, or kept warm for a hot function), its port waited for, the request forwarded inside the
 * container's own network namespace, and its response returned as the job's output in CGI form ({@code Status:},
 * headers, a blank line, the body), which the gateway answers with. The container keeps network {@code none} and
 * every other hardening: the worker reaches its loopback by {@code docker exec} of the host's static busybox
 * ({@code nc}), bind-mounted read-only, and sees it listen in {@code /proc/PID/net/tcp}, read from the host.
 */
final class HttpServers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpServers.class);
    private static final String BUSYBOX = "/wharf/bin/busybox";
    private static final Duration POLL = Duration.ofMillis(5);
    /** Headers that describe one hop, not the request: the worker's own connection sets them. */
    private static final Set<String> HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length",
            "expect", "proxy-connection", "trailer");
    private static final int MAX_HEAD = 64 * 1024;

    private final DockerClient docker;
    private final HardenedContainers containers;
    private final Path busybox;
    private final int ahead;
    private final Map<String, Deque<Server>> idle = new ConcurrentHashMap<>();
    private final Map<String, String> active = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private final WorkerMeters meters;

    /** A started container listening on its port. */
    private record Server(String id, long createdAt, long startedAt, long readyAt, int served, long idleSince) {
    }

    /**
     * @param busybox a static busybox on the worker's host, or null (then no HTTP-server function runs here)
     * @param ahead   containers started ahead of need per function (the worker's prestart setting); 0 for none
     */
    HttpServers(DockerClient docker, HardenedContainers containers, Path busybox, int ahead, WorkerMeters meters) {
        this.docker = docker;
        this.meters = meters;
        this.containers = containers;
        this.busybox = busybox;
        this.ahead = Math.min(ahead, 2);
    }

    RunOutcome run(RunRequest request, OutputListener output, long pulledAt) throws InterruptedException {
        if (busybox == null || !Files.isExecutable(busybox)) {
            return RunOutcome.failedToRun("An HTTP-server function needs the worker's static busybox (wharf.worker.shim.path, Debian's "
                    + "busybox-static) to reach the container's port; this worker has none", pulledAt);
        }
        long deadline = System.nanoTime() + request.timeout().toNanos();
        String key = Containers.key(request);
        Server server = take(key);
        Usage before = null;
        try {
            if (server == null) {
                server = start(request, deadline); // a server started for this request: its start counts as the request's use
            } else {
                before = containers.usage(server.id()); // a server serving again: the difference over this request
                containers.resetPeak(server.id());
            }
            refill(request, key);
            active.put(request.jobId(), server.id());
            JobOutput.Live live = docker.logContainerCmd(server.id()).withStdOut(true).withStdErr(true).withFollowStream(true)
                    .withSince((int) (System.currentTimeMillis() / 1000)).exec(new JobOutput.Live(output));
            byte[] response = forward(server.id(), request, deadline);
            long served = System.currentTimeMillis();
            try {
                live.close();
            } catch (IOException e) {
                // the log stream of a container that is going away
            }
            if (response == null) {
                return outcome(null, true, null, server, pulledAt, served, request); // TIMED_OUT
            }
            byte[] cgi = cgi(response, request.maxBodyBytes());
            if (cgi == null) {
                return outcome(null, false, "The server on port " + request.forward().port() + " answered no HTTP response ("
                        + response.length + " bytes): " + preview(response), server, pulledAt, served, request);
            }
            boolean truncated = response.length > request.maxBodyBytes() + MAX_HEAD;
            Usage used = containers.usage(server.id());
            RunOutcome ok = new RunOutcome(0, false, false, cgi, truncated, null, null, request.image(), pulledAt, server.createdAt(),
                    server.startedAt(), served, 0, server.readyAt()).withUsage(used == null || before == null ? used : used.since(before));
            server = keep(request, key, server) ? null : server;
            return ok;
        } catch (StartFailure e) {
            return new RunOutcome(e.exitCode, e.timedOut, false, new byte[0], false, e.stderrTail, e.timedOut ? null : e.getMessage(), request.image(), pulledAt,
                    e.createdAt, e.startedAt, System.currentTimeMillis(), 0, 0);
        } catch (DockerException e) {
            return outcome(null, false, "The container engine failed to serve " + request.image() + ": " + e.getMessage(), server, pulledAt,
                    System.currentTimeMillis(), request);
        } finally {
            active.remove(request.jobId());
            if (server != null) {
                String id = server.id();
                // after the answer: the caller does not wait for removal
                Containers.ASIDE.submit(() -> meters.stop(request.function(), () -> containers.remove(id)));
            }
        }
    }

    private RunOutcome outcome(Integer exit, boolean timedOut, String error, Server server, long pulledAt, long ended, RunRequest request) {
        return new RunOutcome(exit, timedOut, false, new byte[0], false, null, error, request.image(), pulledAt,
                server == null ? 0 : server.createdAt(), server == null ? 0 : server.startedAt(), ended, 0, server == null ? 0 : server.readyAt());
    }

    /** Kills the container serving {@code jobId}, if one is; true if it was this runner's. */
    boolean kill(String jobId) {
        String id = active.get(jobId);
        if (id == null) {
            return false;
        }
        containers.kill(id);
        return true;
    }

    private Server take(String key) {
        Deque<Server> ready = idle.get(key);
        if (ready == null) {
            return null;
        }
        synchronized (ready) {
            return ready.pollFirst();
        }
    }

    /** A warm (hot) server goes back for the next request, within its limits; others are removed. */
    private boolean keep(RunRequest request, String key, Server server) {
        if (request.hot() == null || closed || server.served() + 1 >= request.hot().maxJobsPerContainer()) {
            return false;
        }
        Deque<Server> ready = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (ready) {
            ready.addFirst(new Server(server.id(), server.createdAt(), server.startedAt(), server.readyAt(), server.served() + 1,
                    System.currentTimeMillis()));
        }
        expireLater(key, request.hot().idleTtl());
        return true;
    }

    /** Starts servers ahead of the next requests of a function that is not hot, as the worker's prestart setting says. */
    private void refill(RunRequest request, String key) {
        if (ahead == 0 || request.hot() != null || closed) {
            return;
        }
        Deque<Server> ready = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
        synchronized (ready) {
            if (ready.size() >= ahead) {
                return;
            }
        }
        Thread.ofVirtual().name("wharf-http-ahead").start(() -> {
            try {
                Server started = start(request, System.nanoTime() + Duration.ofSeconds(60).toNanos());
                synchronized (ready) {
                    if (closed || ready.size() >= ahead) {
                        containers.remove(started.id());
                        return;
                    }
                    ready.addLast(started);
                }
                expireLater(key, Duration.ofSeconds(60));
            } catch (StartFailure | DockerException | InterruptedException e) {
                log.debug("A server of {} started ahead did not come up: {}", request.function(), e.toString());
            }
        });
    }

    /** Removes the key's servers idle longer than {@code ttl}, once it has passed. */
    private void expireLater(String key, Duration ttl) {
        Thread.ofVirtual().name("wharf-http-expiry").start(() -> {
            try {
                Thread.sleep(ttl.plusMillis(50));
            } catch (InterruptedException e) {
                return;
            }
            Deque<Server> ready = idle.get(key);
            if (ready == null) {
                return;
            }
            long now = System.currentTimeMillis();
            List<Server> expired;
            synchronized (ready) {
                expired = ready.stream().filter(s -> now - s.idleSince() >= ttl.toMillis()).toList();
                ready.removeAll(expired);
            }
            expired.forEach(s -> containers.remove(s.id()));
        });
    }

    /** Creates and starts a server container and waits until it listens on its port. */
    private Server start(RunRequest request, long deadline) throws InterruptedException {
        RunRequest shared = Containers.withoutJob(request, request.command(), request.entrypoint());
        HardenedContainers.Use use = request.hot() != null ? HardenedContainers.Use.HOT : HardenedContainers.Use.PRESTARTED;
        String id = containers.create(shared, use, List.of(new Bind(busybox.toString(), new Volume(BUSYBOX), AccessMode.ro)), List.of());
        long createdAt = System.currentTimeMillis();
        try {
            docker.startContainerCmd(id).exec();
            long startedAt = System.currentTimeMillis();
            int pid = docker.inspectContainerCmd(id).exec().getState().getPid();
            int port = request.forward().port();
            while (!listening(pid, port)) {
                var state = docker.inspectContainerCmd(id).exec().getState();
                if (!Boolean.TRUE.equals(state.getRunning())) {
                    throw new StartFailure("The container exited (code " + state.getExitCodeLong() + ") before listening on port " + port,
                            state.getExitCodeLong() == null ? null : state.getExitCodeLong().intValue(), false, stderrTail(id), createdAt, startedAt);
                }
                if (System.nanoTime() > deadline) {
                    throw new StartFailure("The server did not listen on port " + port + " within the function's timeout of "
                            + request.timeout().toMillis() + " ms: is --http-port the port the image serves?", null, true, stderrTail(id),
                            createdAt, startedAt);
                }
                Thread.sleep(POLL);
            }
            Server server = new Server(id, createdAt, startedAt, System.currentTimeMillis(), 0, 0);
            id = null;
            return server;
        } finally {
            if (id != null) {
                containers.remove(id);
            }
        }
    }

    private String stderrTail(String id) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            docker.logContainerCmd(id).withStdErr(true).withTail(20).exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    err.writeBytes(frame.getPayload());
                }
            }).awaitCompletion(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (DockerException e) {
            // no tail
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Whether a socket listens on {@code port} in the network namespace of process {@code pid} (IPv4 or IPv6). */
    static boolean listening(int pid, int port) {
        String hexPort = String.format(":%04X", port);
        for (String table : List.of("tcp", "tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "net", table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")) {
                        return true;
                    }
                }
            } catch (IOException e) {
                // no such table, or the process is gone: not listening
            }
        }
        return false;
    }

    /** Sends the request to the server through {@code nc} in the container; its raw response, or null at the deadline. */
    private byte[] forward(String id, RunRequest request, long deadline) throws InterruptedException {
        RunRequest.HttpForward http = request.forward();
        String exec = docker.execCreateCmd(id).withAttachStdin(true).withAttachStdout(true).withAttachStderr(true)
                .withCmd(BUSYBOX, "nc", "127.0.0.1", String.valueOf(http.port())).exec().getId();
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        int cap = request.maxBodyBytes() + MAX_HEAD + 1;
        ResultCallback.Adapter<Frame> done = docker.execStartCmd(exec).withStdIn(new ByteArrayInputStream(rawRequest(request)))
                .exec(new ResultCallback.Adapter<>() {
                    @Override
                    public void onNext(Frame frame) {
                        if (frame.getStreamType() == StreamType.STDOUT || frame.getStreamType() == StreamType.RAW) {
                            synchronized (response) {
                                response.write(frame.getPayload(), 0, Math.max(0, Math.min(frame.getPayload().length, cap - response.size())));
                            }
                        }
                    }
                });
        long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        if (!done.awaitCompletion(left, TimeUnit.MILLISECONDS)) {
            try {
                done.close();
            } catch (IOException e) {
                // abandoned
            }
            return null;
        }
        synchronized (response) {
            return response.toByteArray();
        }
    }

    /** HTTP/1.0 with {@code Connection: close}: the server answers without chunks and closes, which ends {@code nc}. */
    static byte[] rawRequest(RunRequest request) {
        RunRequest.HttpForward http = request.forward();
        StringBuilder head = new StringBuilder();
        head.append(http.method()).append(' ').append(http.target().isEmpty() ? "/" : http.target()).append(" HTTP/1.0\r\n");
        head.append("Host: 127.0.0.1:").append(http.port()).append("\r\n");
        http.headers().forEach((name, value) -> {
            if (!HOP.contains(name.toLowerCase(Locale.ROOT))) {
                head.append(name).append(": ").append(value.replaceAll("[\r\n]", " ")).append("\r\n");
            }
        });
        head.append("X-Call-Id: ").append(request.jobId()).append("\r\n");
        head.append("Content-Length: ").append(request.payload().length).append("\r\nConnection: close\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + request.payload().length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(request.payload(), 0, all, h.length, request.payload().length);
        return all;
    }

    /** An HTTP response as CGI output ({@code Status:}, its headers less hop-by-hop ones, a blank line, the body); null if it is none. */
    static byte[] cgi(byte[] response, int maxBodyBytes) {
        int end = indexOf(response, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        int skip = 4;
        if (end < 0) {
            end = indexOf(response, "\n\n".getBytes(StandardCharsets.ISO_8859_1));
            skip = 2;
        }
        if (end < 0 || end > MAX_HEAD) {
            return null;
        }
        String[] lines = new String(response, 0, end, StandardCharsets.ISO_8859_1).split("\r?\n");
        String[] status = lines[0].split(" ", 3);
        if (status.length < 2 || !status[0].startsWith("HTTP/") || !status[1].matches("\\d{3}")) {
            return null;
        }
        StringBuilder out = new StringBuilder("Status: ").append(status[1]).append(status.length > 2 ? " " + status[2] : "").append("\r\n");
        boolean chunked = false;
        Map<String, String> seen = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon < 1) {
                continue;
            }
            String name = lines[i].substring(0, colon).strip();
            String lower = name.toLowerCase(Locale.ROOT);
            chunked |= lower.equals("transfer-encoding") && lines[i].toLowerCase(Locale.ROOT).contains("chunked");
            if (!HOP.contains(lower) && seen.putIfAbsent(lower, name) == null || !HOP.contains(lower) && lower.equals("set-cookie")) {
                out.append(name).append(": ").append(lines[i].substring(colon + 1).strip()).append("\r\n");
            }
        }
        out.append("\r\n");
        byte[] body = java.util.Arrays.copyOfRange(response, end + skip, response.length);
        if (chunked) {
            body = unchunk(body);
        }
        if (body.length > maxBodyBytes) {
            body = java.util.Arrays.copyOf(body, maxBodyBytes);
        }
        byte[] head = out.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    private static byte[] unchunk(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < body.length) {
            int lineEnd = indexOf(java.util.Arrays.copyOfRange(body, i, body.length), "\r\n".getBytes(StandardCharsets.ISO_8859_1));
            if (lineEnd < 0) {
                break;
            }
            String size = new String(body, i, lineEnd, StandardCharsets.ISO_8859_1).split(";")[0].strip();
            int n;
            try {
                n = Integer.parseInt(size, 16);
            } catch (NumberFormatException e) {
                break;
            }
            i += lineEnd + 2;
            if (n == 0 || i + n > body.length) {
                out.write(body, i, Math.max(0, Math.min(n, body.length - i)));
                break;
            }
            out.write(body, i, n);
            i += n + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String preview(byte[] bytes) {
        String text = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        return text.isEmpty() ? "(nothing)" : text;
    }

    /** Every idle server is removed. */
    @Override
    public void close() {
        closed = true;
        idle.values().forEach(ready -> {
            synchronized (ready) {
                ready.forEach(s -> containers.remove(s.id()));
                ready.clear();
            }
        });
    }

    /** A server that never listened: why, and what its container left. */
    private static final class StartFailure extends RuntimeException {
        final Integer exitCode;
        final boolean timedOut;
        final String stderrTail;
        final long createdAt;
        final long startedAt;

        StartFailure(String message, Integer exitCode, boolean timedOut, String stderrTail, long createdAt, long startedAt) {
            super(message);
            this.exitCode = exitCode;
            this.timedOut = timedOut;
            this.stderrTail = stderrTail;
            this.createdAt = createdAt;
            this.startedAt = startedAt;
        }
    }
}
