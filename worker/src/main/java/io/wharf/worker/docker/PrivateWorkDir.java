package io.wharf.worker.docker;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's own directory on its host for payload files and warm containers' pipes: {@code BASE/<worker id>}, mode
 * 0700, so no other local user can read a payload or write an answer into a pipe. Containers reach what is theirs
 * through bind mounts alone, so the files inside need only be open to the container's user. The base must belong to
 * the worker's user (a directory in {@code /tmp} someone else made first would let them in). A worker holds a lock
 * ({@code BASE/<worker id>.lock}) while it runs; at start it removes its own leftovers and those of every worker whose
 * lock is free (one that crashed), so nothing of a dead worker's payloads stays behind.
 */
final class PrivateWorkDir implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PrivateWorkDir.class);
    private static final String LOCK = ".lock";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private final Path path;
    private final FileChannel lockChannel;

    private PrivateWorkDir(Path path, FileChannel lockChannel) {
        this.path = path;
        this.lockChannel = lockChannel;
    }

    /** The directory of worker {@code owner} under {@code base} ({@code setting} names where base came from, for errors). */
    static PrivateWorkDir open(String setting, Path base, String owner) {
        try {
            Files.createDirectories(base, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            checkOwned(setting, base);
            removeDead(base);
            String name = owner.replaceAll("[^A-Za-z0-9_.-]", "_");
            Path path = base.resolve(name);
            // The lock first: a worker cleaning up at the same moment must not take this directory for a dead one.
            FileChannel channel = FileChannel.open(base.resolve(name + LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            if (tryLock(channel) == null) {
                channel.close();
                throw new IllegalStateException("Another worker with id " + owner + " runs on this host with " + setting + " " + base
                        + ": give each worker its own wharf.worker.id");
            }
            delete(path); // what an earlier run with this id left
            Files.createDirectory(path, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.setPosixFilePermissions(path, OWNER_ONLY); // whatever the umask
            return new PrivateWorkDir(path, channel);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot make the worker's private directory under " + setting + " " + base + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return path;
    }

    private static void checkOwned(String setting, Path base) throws IOException {
        String owner = Files.getOwner(base).getName();
        String me = System.getProperty("user.name");
        if (!ownedByThisProcess(base)) {
            throw new org.apache.kafka.common.config.ConfigException(setting, base.toString(), "It belongs to " + owner + ", not to " + me + " who runs this worker: "
                    + "its payloads and pipes would be open to " + owner + ". Use a directory of " + me + "'s");
        }
        if (!Files.getPosixFilePermissions(base).equals(OWNER_ONLY)) {
            Files.setPosixFilePermissions(base, OWNER_ONLY);
            log.info("Made {} private to {} (mode 0700)", base, me);
        }
    }

    /**
     * Whether this process's user owns {@code path}: by uid where Linux tells it ({@code /proc/self} belongs to the
     * process's user, whatever its name, or none, in {@code /etc/passwd}), else by the user's name.
     */
    private static boolean ownedByThisProcess(Path path) throws IOException {
        Path self = Path.of("/proc/self");
        if (Files.exists(self)) {
            return Files.getAttribute(path, "unix:uid").equals(Files.getAttribute(self, "unix:uid"));
        }
        return Files.getOwner(path).getName().equals(System.getProperty("user.name"));
    }

    /** Removes the directories of workers that hold no lock on theirs ({@code <id>.lock} beside it): they died. */
    private static void removeDead(Path base) throws IOException {
        List<Path> locks;
        try (Stream<Path> list = Files.list(base)) {
            locks = list.filter(f -> f.getFileName().toString().endsWith(LOCK) && Files.isRegularFile(f)).toList();
        }
        for (Path lockFile : locks) {
            String name = lockFile.getFileName().toString();
            Path dir = base.resolve(name.substring(0, name.length() - LOCK.length()));
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
                FileLock lock = tryLock(channel);
                if (lock != null) {
                    delete(dir);
                    Files.deleteIfExists(lockFile);
                    lock.release();
                    log.info("Removed {}, left by a worker that is no longer running", dir);
                }
            } catch (IOException e) {
                log.debug("Could not check {}: {}", lockFile, e.getMessage());
            }
        }
    }

    /** The lock, or null when another process (or another worker of this JVM) holds it. */
    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Removes the directory with what is left in it, then its lock. */
    @Override
    public void close() {
        try {
            delete(path);
            Files.deleteIfExists(path.resolveSibling(path.getFileName() + LOCK));
            lockChannel.close();
        } catch (IOException e) {
            log.warn("Could not remove {}: {}", path, e.getMessage());
        }
    }
}
