package io.wharf.worker.runtime;

/**
 * Runs one job attempt in a fresh container and reports what happened. The worker depends only on this
 * interface; docker-java is one implementation, a second runtime (crun, Kubernetes Jobs) is another class.
 *
 * <p>Implementations never throw for what the job did (non-zero exit, timeout, OOM) nor for a missing image:
 * those are outcomes. They remove every container they create, also when the calling thread is interrupted,
 * which is how a running job is abandoned.
 */
public interface ContainerRunner extends AutoCloseable {

    /** Runs the attempt; {@code output} receives stdout and stderr while the container runs. */
    RunOutcome run(RunRequest request, OutputListener output) throws InterruptedException;

    /** Kills the container of a running job attempt, so that its run ends now; no-op if none runs. */
    default void kill(String workerId, String jobId) {
    }

    /** Removes containers this runner's owner left behind (by label), returning how many. */
    default int removeStale(String workerId) {
        return 0;
    }

    @Override
    default void close() {
    }
}
