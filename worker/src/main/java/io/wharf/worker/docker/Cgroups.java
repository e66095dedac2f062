package io.wharf.worker.docker;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;

import io.wharf.worker.runtime.Usage;

/**
 * Where a container's resource use is read: each container Wharf makes gets a cgroup parent of its own,
 * {@code /wharf/<owner>/<token>}. A container's own cgroup goes with its last process, but its parent keeps counting
 * what its descendants used (CPU, the memory peak, block I/O), so the use of a job can be read once its container
 * exited, and over each job of a warm one. Works with the engine's {@code cgroupfs} driver, cgroup v1 or v2, when its
 * cgroup file system is visible to the worker (the same host, or mounted at {@code wharf.worker.cgroup.root});
 * otherwise nothing is measured and results carry no usage.
 */
final class Cgroups {
    private static final Logger log = LoggerFactory.getLogger(Cgroups.class);
    /** Between a cgroup file's fields; compiled once, as each job's reading goes through it ({@code String.split} would compile it per line). */
    private static final Pattern SPACES = Pattern.compile("\\s+");

    /** The engines' cgroup drivers, by DOCKER_HOST (unset: the local socket). */
    private static final java.util.Map<String, String> DRIVERS = new java.util.concurrent.ConcurrentHashMap<>();

    private final Path root;
    private final boolean v2;
    /** The owner's part of every parent, e.g. {@code /wharf/worker-1}; null when nothing is measured. */
    private final String base;
    /** The files of each token read so far, until its container is removed. */
    private final java.util.Map<String, CgroupFiles> open = new java.util.concurrent.ConcurrentHashMap<>();
    /** v1's controller hierarchies by name, found once. */
    private final java.util.Map<String, Path> controllers = new java.util.concurrent.ConcurrentHashMap<>();

    private Cgroups(Path root, boolean v2, String base) {
        this.root = root;
        this.v2 = v2;
        this.base = base;
    }

    /** Measures nothing: containers keep the engine's default cgroup parent. */
    static Cgroups none() {
        return new Cgroups(null, false, null);
    }

    /**
     * What the engine behind {@code docker} allows: per-container parents under {@code root} with its cgroupfs driver,
     * else {@link #none()} (logged once, saying why).
     */
    static Cgroups detect(DockerClient docker, Path root, String owner) {
        if (root == null || !Files.isDirectory(root)) {
            log.info("No cgroup file system at {}: jobs' CPU, memory and I/O are not measured (wharf.worker.cgroup.root)", root);
            return none();
        }
        String driver;
        try {
            // Asked once per engine and process: the engine's /info takes its network locks, and under many container
            // exits at once Docker 20.10 was seen to deadlock there (every runner of a test JVM asking made it likely).
            driver = DRIVERS.computeIfAbsent(String.valueOf(System.getenv("DOCKER_HOST")), host -> docker.infoCmd().exec().getCGroupDriver());
        } catch (RuntimeException e) {
            log.info("Could not ask the engine for its cgroup driver ({}): jobs' resource use is not measured", e.getMessage());
            return none();
        }
        if (!"cgroupfs".equals(driver)) {
            log.info("The engine's cgroup driver is {}, not cgroupfs: jobs' CPU, memory and I/O are not measured", driver);
            return none();
        }
        return at(root, owner);
    }

    /** Per-container parents for {@code owner} under the cgroup file system at {@code root} (v2 when it is unified). */
    static Cgroups at(Path root, String owner) {
        return new Cgroups(root, Files.exists(root.resolve("cgroup.controllers")), "/wharf/" + safe(owner));
    }

    private static String safe(String name) {
        String s = name.replaceAll("[^A-Za-z0-9_.-]", "_");
        return s.length() > 64 ? s.substring(0, 64) : s;
    }

    boolean measures() {
        return base != null;
    }

    /** The cgroup parent to create a container under for {@code token}; null when nothing is measured. */
    String parent(String token) {
        return base == null ? null : base + "/" + token;
    }

    /** What the containers under {@code token} used so far; null when it cannot be read. */
    Usage read(String token) {
        CgroupFiles files = files(token);
        try {
            return files == null ? null : files.read();
        } catch (IOException | RuntimeException e) {
            log.debug("Could not read the cgroup {}: {}", parent(token), e.toString());
            return null;
        }
    }

    /**
     * Starts the memory peak afresh, for a warm container's next job (v1; under v2 a peak is reset only for the file
     * handle that reset it, so a warm job's peak there is its container's since it started).
     */
    void resetPeak(String token) {
        CgroupFiles files = files(token);
        try {
            if (files != null) {
                files.resetPeak();
            }
        } catch (IOException | RuntimeException e) {
            log.debug("Could not reset the memory peak of {}: {}", parent(token), e.toString());
        }
    }

    /** The token's files, opened at its first reading (the engine makes the directories when it creates the container). */
    private CgroupFiles files(String token) {
        if (base == null || token == null) {
            return null;
        }
        try {
            return open.computeIfAbsent(token, t -> {
                try {
                    String parent = parent(t);
                    return v2 ? CgroupFiles.v2(under(root, parent))
                            : CgroupFiles.v1(under(controller("cpuacct"), parent), under(controller("memory"), parent), under(controller("blkio"), parent));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (RuntimeException e) {
            log.debug("Could not open the cgroup {}: {}", parent(token), e.toString());
            return null;
        }
    }

    /** Closes the token's files, if it has any open: its container is gone, or going. */
    void close(String token) {
        CgroupFiles files = token == null ? null : open.remove(token);
        if (files != null) {
            files.close();
        }
    }

    /** Removes the token's cgroup directories once its container is gone (a directory still in use stays). */
    void remove(String token) {
        if (base != null && token != null) {
            close(token);
            for (Path hierarchy : hierarchies()) {
                delete(under(hierarchy, parent(token)));
            }
        }
    }

    /** Removes what this owner's containers left (they are gone): every token's directory, then its own. */
    void removeStale() {
        if (base == null) {
            return;
        }
        for (Path hierarchy : hierarchies()) {
            Path dir = under(hierarchy, base);
            if (Files.isDirectory(dir)) {
                try (DirectoryStream<Path> tokens = Files.newDirectoryStream(dir, Files::isDirectory)) {
                    tokens.forEach(Cgroups::delete);
                } catch (IOException e) {
                    log.debug("Could not list {}: {}", dir, e.toString());
                }
                delete(dir);
                delete(dir.getParent()); // the shared /wharf, once no worker uses it
            }
        }
    }

    private static void delete(Path dir) {
        try {
            Files.deleteIfExists(dir); // rmdir: a cgroup directory holds only its interface files, which go with it
        } catch (IOException e) {
            log.debug("Could not remove the cgroup {}: {}", dir, e.toString());
        }
    }

    /** v1: one hierarchy per controller (the engine makes the parent in each); v2: the one. */
    private List<Path> hierarchies() {
        if (v2) {
            return List.of(root);
        }
        List<Path> all = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
            dirs.forEach(all::add);
        } catch (IOException e) {
            log.debug("Could not list {}: {}", root, e.toString());
        }
        return all;
    }

    /** A v1 controller's hierarchy, also when it is mounted together with another ({@code cpu,cpuacct}). */
    private Path controller(String name) {
        return controllers.computeIfAbsent(name, this::findController);
    }

    private Path findController(String name) {
        Path alone = root.resolve(name);
        if (Files.isDirectory(alone)) {
            return alone;
        }
        for (Path hierarchy : hierarchies()) {
            if (List.of(hierarchy.getFileName().toString().split(",")).contains(name)) {
                return hierarchy;
            }
        }
        throw new IllegalStateException("no " + name + " hierarchy under " + root);
    }

    private static Path under(Path hierarchy, String parent) {
        return hierarchy.resolve(parent.substring(1));
    }

    /** A {@code key value} line's value ({@code cpu.stat}). */
    static long field(String text, String key) {
        for (String line : text.split("\n")) {
            String[] parts = SPACES.split(line.strip());
            if (parts.length == 2 && parts[0].equals(key)) {
                return Long.parseLong(parts[1]);
            }
        }
        throw new IllegalStateException("no " + key);
    }

    /** Bytes read and written over every device, from v1's {@code MAJ:MIN Read|Write N} lines. */
    static long[] ioV1Text(String text) {
        long read = 0, written = 0;
        for (String line : text.split("\n")) {
            String[] parts = SPACES.split(line.strip());
            if (parts.length == 3) {
                switch (parts[1].toLowerCase(Locale.ROOT)) {
                    case "read" -> read += Long.parseLong(parts[2]);
                    case "write" -> written += Long.parseLong(parts[2]);
                    default -> {
                    }
                }
            }
        }
        return new long[] {read, written};
    }

    /** Bytes read and written over every device, from v2's {@code MAJ:MIN rbytes=N wbytes=N ...} lines. */
    static long[] ioV2Text(String text) {
        long read = 0, written = 0;
        for (String line : text.split("\n")) {
            for (String pair : SPACES.split(line.strip())) {
                if (pair.startsWith("rbytes=")) {
                    read += Long.parseLong(pair.substring(7));
                } else if (pair.startsWith("wbytes=")) {
                    written += Long.parseLong(pair.substring(7));
                }
            }
        }
        return new long[] {read, written};
    }
}
