package io.wharf.worker.internals;

/** The cancel requests a worker has read: why a job was cancelled, or null if it was not. */
@FunctionalInterface
public interface Cancels {
    Cancels NONE = jobId -> null;

    String reason(String jobId);
}
