package io.wharf.worker.runtime;

/**
 * What a container used over a job, from its cgroup.
 *
 * @param cpuNanos        user and system CPU time of all its processes
 * @param peakMemoryBytes the most memory it held at once
 * @param readBytes       bytes read from block devices
 * @param writtenBytes    bytes written to block devices
 */
public record Usage(long cpuNanos, long peakMemoryBytes, long readBytes, long writtenBytes) {
    /** The use since {@code before}, a reading of the same container: counters subtract, the peak is this reading's. */
    public Usage since(Usage before) {
        return new Usage(Math.max(0, cpuNanos - before.cpuNanos), peakMemoryBytes, Math.max(0, readBytes - before.readBytes),
                Math.max(0, writtenBytes - before.writtenBytes));
    }
}
