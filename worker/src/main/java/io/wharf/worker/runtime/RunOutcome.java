package io.wharf.worker.runtime;

/**
 * What happened to one container run. Timestamps are epoch milliseconds, 0 where a step did not happen.
 *
 * @param exitCode      the process's exit code, null if it never ran
 * @param timedOut      killed because it outlived its timeout
 * @param oomKilled     the kernel killed a process of the container for memory, whatever the exit code
 * @param stdout        the first {@code maxBodyBytes} of stdout
 * @param stdoutTruncated more stdout was written than kept
 * @param stderrTail    the last few KiB of stderr
 * @param error         why the container could not be run at all (image missing, engine error), else null
 * @param imageId       the image the container ran
 * @param readyAt       an HTTP-server function's container listened on its port (0 for every other run)
 * @param usage         what the container used over the job; null when it was not measured
 */
public record RunOutcome(Integer exitCode, boolean timedOut, boolean oomKilled, byte[] stdout, boolean stdoutTruncated,
                         String stderrTail, String error, String imageId,
                         long pulledAt, long createdAt, long startedAt, long exitedAt, long removedAt, long readyAt, Usage usage) {

    public RunOutcome(Integer exitCode, boolean timedOut, boolean oomKilled, byte[] stdout, boolean stdoutTruncated, String stderrTail, String error,
                      String imageId, long pulledAt, long createdAt, long startedAt, long exitedAt, long removedAt, long readyAt) {
        this(exitCode, timedOut, oomKilled, stdout, stdoutTruncated, stderrTail, error, imageId, pulledAt, createdAt, startedAt, exitedAt, removedAt,
                readyAt, null);
    }

    /** This outcome with {@code usage} measured. */
    public RunOutcome withUsage(Usage measured) {
        return new RunOutcome(exitCode, timedOut, oomKilled, stdout, stdoutTruncated, stderrTail, error, imageId, pulledAt, createdAt, startedAt,
                exitedAt, removedAt, readyAt, measured);
    }

    public RunOutcome(Integer exitCode, boolean timedOut, boolean oomKilled, byte[] stdout, boolean stdoutTruncated, String stderrTail, String error,
                      String imageId, long pulledAt, long createdAt, long startedAt, long exitedAt, long removedAt) {
        this(exitCode, timedOut, oomKilled, stdout, stdoutTruncated, stderrTail, error, imageId, pulledAt, createdAt, startedAt, exitedAt, removedAt, 0);
    }

    public static RunOutcome failedToRun(String error, long pulledAt) {
        return new RunOutcome(null, false, false, new byte[0], false, null, error, null, pulledAt, 0, 0, 0, 0);
    }
}
