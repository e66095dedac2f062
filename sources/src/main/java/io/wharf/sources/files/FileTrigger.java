package io.wharf.sources.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.client.WharfClient;
import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.FileSource;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;
import io.wharf.records.Trigger;
import io.wharf.rules.JobStates;
import io.wharf.sources.spi.TriggerParts;
import io.wharf.sources.spi.TriggerRun;

/**
 * A watched directory on this instance's host. A file that stopped growing (its size and time the same for the
 * trigger's settle time) is claimed by moving it to {@code .wharf/processing/} (an atomic rename, so two instances
 * sharing the directory never both take it), then sent as one event; when its job's result is final it moves to
 * {@code done/} (succeeded) or {@code failed/}. The event's id comes from the file's name, size and time, so a restart
 * finds what was claimed and not finished in {@code processing/}, looks at its job's state and either finishes it or
 * sends it again under the same id, which the dispatcher drops if it had it: no file is lost or run twice.
 */
public final class FileTrigger implements TriggerRun {
    private static final Logger log = LoggerFactory.getLogger(FileTrigger.class);
    private static final Duration SCAN = Duration.ofMillis(250);
    /** Every this many scans (5 s), what is in processing/ and not awaited is looked at again. */
    private static final int RECOVER_EVERY = 20;
    static final String PROCESSING = ".wharf/processing";
    static final String DONE = "done";
    static final String FAILED = "failed";
    /** The content type of an event that names a file too large to carry: {"path", "name", "size"}. */
    public static final String REFERENCE_TYPE = "application/vnd.wharf.file+json";

    private final Trigger trigger;
    private final FileSource files;
    private final TriggerParts parts;
    private final WharfClient client;
    private final Path directory;
    private final List<Path> roots;
    private final PathMatcher matcher;
    private final Map<Path, Seen> seen = new HashMap<>();
    private final Map<Path, CompletableFuture<JobResult>> awaited = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean paused;
    private volatile boolean closed;
    private volatile State state = State.STARTING;
    private volatile String problem;

    private record Seen(long size, long modified, long since) {
    }

    /** @param roots the directories file triggers may watch (and under them): wharf.sources.files.roots */
    public FileTrigger(Trigger trigger, TriggerParts parts, WharfClient client, List<Path> roots) {
        this.trigger = trigger;
        this.roots = roots;
        this.files = trigger.getFiles();
        this.parts = parts;
        this.client = client;
        this.directory = Path.of(files.getDirectory());
        this.matcher = directory.getFileSystem().getPathMatcher("glob:" + files.getPattern());
        this.paused = trigger.getPaused();
        this.thread = Thread.ofPlatform().name("wharf-trigger-" + trigger.getName()).unstarted(this::run);
    }

    @Override
    public FileTrigger start() {
        thread.start();
        return this;
    }

    private void run() {
        try {
            Path real = directory.normalize();
            if (roots.stream().noneMatch(root -> real.startsWith(root.normalize()))) {
                throw new IllegalStateException("directory " + directory + " is not under this instance's wharf.sources.files.roots " + roots
                        + ": add it (or a parent) there");
            }
            if (!Files.isDirectory(directory)) {
                throw new IllegalStateException("directory " + directory + " does not exist on this instance's host");
            }
            Files.createDirectories(directory.resolve(PROCESSING));
            Files.createDirectories(directory.resolve(DONE));
            Files.createDirectories(directory.resolve(FAILED));
            recover();
            state = paused ? State.PAUSED : State.RUNNING;
            log.info("Trigger {} watching {} for {}", trigger.getName(), directory, files.getPattern());
            for (long turn = 1; !closed; turn++) {
                if (!paused) {
                    state = State.RUNNING;
                    scan();
                    if (turn % RECOVER_EVERY == 0) {
                        recover(); // what a send that failed (a broker away) left in processing/
                    }
                } else {
                    state = State.PAUSED;
                }
                Thread.sleep(SCAN); // a polling interval: directory events are not reliable on every file system
            }
            state = State.STOPPED;
        } catch (InterruptedException e) {
            state = State.STOPPED;
        } catch (IOException | RuntimeException e) {
            problem = e instanceof IllegalStateException ? e.getMessage() : e.toString();
            state = State.FAILED;
            log.error("Trigger {} failed: {}", trigger.getName(), problem, e);
        }
    }

    /**
     * What was claimed and is not awaited (by a run before this one, or a send that failed): finished now if its job
     * ended, else awaited, or sent again (under the same id) if it never reached Kafka.
     */
    private void recover() throws IOException {
        try (DirectoryStream<Path> claimed = Files.newDirectoryStream(directory.resolve(PROCESSING))) {
            for (Path file : claimed) {
                if (awaited.containsKey(file)) {
                    continue;
                }
                try {
                    recover(file);
                } catch (NoSuchFileException e) {
                    // finished meanwhile by another instance sharing the directory
                }
            }
        }
    }

    private void recover(Path file) throws IOException {
        String id = eventId(file.getFileName().toString(), Files.readAttributes(file, BasicFileAttributes.class));
        CompletableFuture<JobResult> result = client.awaitResult(id);
        Optional<JobState> known = client.state(id);
        if (known.isPresent() && JobStates.isFinal(known.get())) {
            result.cancel(false);
            finish(file, known.get().getPhase().name().equals(JobStatus.SUCCEEDED.name()));
        } else if (known.isPresent()) {
            follow(file, result);
        } else {
            result.cancel(false);
            send(file);
        }
    }

    /** Takes each file that stopped growing, oldest first. */
    private void scan() throws IOException {
        long now = parts.clock().millis();
        List<Path> found;
        try (var listing = Files.list(directory)) {
            found = listing.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> matcher.matches(p.getFileName())).toList();
        }
        seen.keySet().retainAll(found);
        Map<Path, Long> ready = new HashMap<>();
        for (Path file : found) {
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(file, BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                continue; // taken by another instance, or removed
            }
            Seen before = seen.get(file);
            long modified = attributes.lastModifiedTime().toMillis();
            if (before == null || before.size() != attributes.size() || before.modified() != modified) {
                seen.put(file, new Seen(attributes.size(), modified, now));
            } else if (now - before.since() >= files.getSettleMillis()) {
                ready.put(file, modified);
            }
        }
        for (Path file : ready.keySet().stream().sorted((a, b) -> Long.compare(ready.get(a), ready.get(b))).toList()) {
            seen.remove(file);
            Path claimed = claim(file);
            if (claimed != null) {
                send(claimed);
            }
        }
    }

    /** Moves the file to processing/; null when another instance took it first. */
    private Path claim(Path file) throws IOException {
        Path target = directory.resolve(PROCESSING).resolve(file.getFileName());
        try {
            return Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException | FileAlreadyExistsException e) {
            return null;
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException(directory + " cannot rename a file atomically into " + PROCESSING + ": use a local file system", e);
        }
    }

    /** Sends the claimed file's event and moves the file on when its result comes. */
    private void send(Path claimed) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(claimed, BasicFileAttributes.class);
        String name = claimed.getFileName().toString();
        io.wharf.records.FunctionSpec function = parts.functions().apply(trigger.getFunction());
        long limit = Math.min(parts.payloadBudget(), function == null ? Long.MAX_VALUE : function.getMaxPayloadBytes());
        boolean inline = attributes.size() <= limit;
        byte[] payload = inline ? Files.readAllBytes(claimed)
                : ("{\"path\": \"" + json(claimed.toString()) + "\", \"name\": \"" + json(name) + "\", \"size\": " + attributes.size() + "}")
                .getBytes(StandardCharsets.UTF_8);
        Map<String, String> headers = new HashMap<>();
        headers.put("wharf-trigger", trigger.getName());
        headers.put("wharf-file-name", name);
        headers.put("wharf-file-size", String.valueOf(attributes.size()));
        headers.put("wharf-file-modified", attributes.lastModifiedTime().toInstant().toString());
        Event event = Event.newBuilder()
                .setId(eventId(name, attributes))
                .setTenant(trigger.getTenant())
                .setFunction(trigger.getFunction())
                .setSource(EventSource.FILE)
                .setKey(name)
                .setPayload(ByteBuffer.wrap(payload))
                .setContentType(inline ? contentType(claimed) : REFERENCE_TYPE)
                .setHeaders(headers)
                .setCreatedAt(Instant.ofEpochMilli(parts.clock().millis()))
                .build();
        follow(claimed, client.invokeAsync(event)); // sealed by the client when the function has a payload key
        parts.outcomes().committed(trigger.getName(), 1, 1, 0);
    }

    private void follow(Path claimed, CompletableFuture<JobResult> result) {
        awaited.put(claimed, result);
        result.whenComplete((r, error) -> {
            if (error == null) {
                finish(claimed, r.getStatus() == JobStatus.SUCCEEDED); // before it is no longer awaited: recover() leaves it alone
            }
            awaited.remove(claimed);
            if (error != null && !closed) {
                problem = "could not send " + claimed.getFileName() + ": " + error.getMessage();
                log.warn("Trigger {}: {}; it is looked at again within {} s", trigger.getName(), problem, RECOVER_EVERY * SCAN.toMillis() / 1000);
            }
        });
    }

    private void finish(Path claimed, boolean succeeded) {
        Path target = directory.resolve(succeeded ? DONE : FAILED).resolve(claimed.getFileName());
        try {
            Files.move(claimed, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            // moved on already (by another instance sharing the directory)
        } catch (IOException e) {
            problem = "could not move " + claimed + " to " + target + ": " + e.getMessage();
            log.warn("Trigger {}: {}", trigger.getName(), problem);
        }
    }

    /** The same file (name, size, time) always makes the same event. */
    private String eventId(String name, BasicFileAttributes attributes) {
        String place = name + "|" + attributes.size() + "|" + attributes.lastModifiedTime().toMillis();
        try {
            byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(place.getBytes(StandardCharsets.UTF_8));
            return io.wharf.rules.Triggers.instance(trigger) + "-" + HexFormat.of().formatHex(sha, 0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String contentType(Path file) {
        try {
            String probed = Files.probeContentType(file);
            return probed != null ? probed : "application/octet-stream";
        } catch (IOException e) {
            return "application/octet-stream";
        }
    }

    private static String json(String text) {
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    @Override
    public Trigger trigger() {
        return trigger;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public String problem() {
        return problem;
    }

    /** Files waiting here: claimed and not finished. */
    @Override
    public long lag() {
        return awaited.size();
    }

    @Override
    public void pause(boolean pause) {
        paused = pause;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        awaited.values().forEach(f -> f.cancel(false)); // what is claimed stays in processing/ for the next start
    }
}
