package io.wharf.worker.docker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import io.wharf.worker.runtime.Usage;

/**
 * The open files of one container's cgroup parent. A warm container is read before and after each of its jobs: kept
 * open and read from offset 0 (the kernel renders a cgroup file afresh for each read from its start), a reading costs
 * three reads instead of finding the controllers' directories and opening, reading and closing each file.
 */
final class CgroupFiles implements AutoCloseable {
    private static final byte[] ZERO = {'0'};

    private final boolean v2;
    private final FileChannel cpu;
    private final FileChannel peak;
    private final FileChannel io;
    /** Whether {@link #peak} is open for writing too, to reset it (a hot job does): v1 only, and not where it is read-only. */
    private final boolean peakResettable;

    private CgroupFiles(boolean v2, FileChannel cpu, FileChannel peak, FileChannel io, boolean peakResettable) {
        this.v2 = v2;
        this.cpu = cpu;
        this.peak = peak;
        this.io = io;
        this.peakResettable = peakResettable;
    }

    /** Under v2, one directory: {@code cpu.stat}, {@code memory.peak} (else {@code memory.current}), {@code io.stat} if there. */
    static CgroupFiles v2(Path dir) throws IOException {
        Path peak = Files.exists(dir.resolve("memory.peak")) ? dir.resolve("memory.peak") : dir.resolve("memory.current");
        Path io = dir.resolve("io.stat");
        return open(true, dir.resolve("cpu.stat"), peak, Files.exists(io) ? io : null, false);
    }

    /** Under v1, a directory per controller. */
    static CgroupFiles v1(Path cpuacct, Path memory, Path blkio) throws IOException {
        Path io = blkio.resolve("blkio.throttle.io_service_bytes_recursive");
        if (!Files.exists(io)) {
            io = blkio.resolve("blkio.io_service_bytes_recursive");
        }
        return open(false, cpuacct.resolve("cpuacct.usage"), memory.resolve("memory.max_usage_in_bytes"), io, true);
    }

    private static CgroupFiles open(boolean v2, Path cpu, Path peak, Path io, boolean resettable) throws IOException {
        FileChannel[] opened = new FileChannel[3];
        try {
            opened[0] = FileChannel.open(cpu, StandardOpenOption.READ);
            opened[1] = resettable ? readWrite(peak) : null;
            boolean writable = opened[1] != null;
            if (!writable) {
                opened[1] = FileChannel.open(peak, StandardOpenOption.READ);
            }
            opened[2] = io == null ? null : FileChannel.open(io, StandardOpenOption.READ);
            return new CgroupFiles(v2, opened[0], opened[1], opened[2], writable);
        } catch (IOException | RuntimeException e) {
            for (FileChannel c : opened) {
                if (c != null) {
                    c.close();
                }
            }
            throw e;
        }
    }

    Usage read() throws IOException {
        long[] bytes = io == null ? new long[] {0, 0} : v2 ? Cgroups.ioV2Text(text(io)) : Cgroups.ioV1Text(text(io));
        long cpuNanos = v2 ? Cgroups.field(text(cpu), "usage_usec") * 1000 : number(cpu);
        return new Usage(cpuNanos, number(peak), bytes[0], bytes[1]);
    }

    /** The file open for reading and writing, or null where this process may only read it (then no peak is reset). */
    private static FileChannel readWrite(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (java.nio.file.FileSystemException e) { // not permitted, or a read-only mount
            return null;
        }
    }

    /**
     * Starts v1's memory peak afresh (v2 has no reset that outlives the handle that made it). Through the open file:
     * opening it for each hot job cost more than the job's own reading.
     */
    void resetPeak() throws IOException {
        if (peakResettable) {
            peak.write(ByteBuffer.wrap(ZERO), 0); // the kernel takes the write as a whole: nothing to truncate
        }
    }

    private static long number(FileChannel file) throws IOException {
        return Long.parseLong(text(file).strip());
    }

    /** The whole file, read from its start. */
    private static String text(FileChannel file) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        long position = 0;
        for (int n; (n = file.read(buffer, position)) > 0; ) {
            position += n;
            if (!buffer.hasRemaining()) {
                buffer = ByteBuffer.allocate(buffer.capacity() * 2).put(buffer.flip());
            }
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        for (FileChannel c : new FileChannel[] {cpu, peak, io}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (IOException e) {
                // a cgroup file: nothing was written that could be lost
            }
        }
    }
}
