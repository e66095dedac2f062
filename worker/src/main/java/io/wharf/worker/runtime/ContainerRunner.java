package io.wharf.worker.runtime;

/**
 * Runs job attempts in containers and reports what happened. The worker depends only on this interface;
 * docker-java is one implementation, a second runtime (crun, Kubernetes Jobs) is another class.
 *
 * <p>A runner is made for one owner (a worker's id) and marks every container it makes with it (see
 * {@link Labels}), so that it can kill a job's container and find what an earlier run of the same owner left.
 * Implementations never throw for what the job did (non-zero exit, timeout, OOM) nor for a missing image:
 * those are outcomes. They remove every container they create, also when the calling thread is interrupted,
 * which is how a running job is abandoned. A run cut short by the runtime itself (its engine restarted) is not
 * the job's doing: the runner runs it again once the runtime is back, and throws {@link RuntimeUnavailableException}
 * if it does not come back in time, so that the job is not charged for it.
 */
public interface ContainerRunner extends AutoCloseable {

    /**
     * Runs the attempt; {@code output} receives stdout and stderr while the container runs.
     *
     * @throws RuntimeUnavailableException when the container runtime went away and did not come back in time
     */
    RunOutcome run(RunRequest request, OutputListener output) throws InterruptedException;

    /** The container runtime is gone: no job can run here until it is back, and the one that was running is not at fault. */
    final class RuntimeUnavailableException extends RuntimeException {
        public RuntimeUnavailableException(String message) {
            super(message);
        }
    }

    /** Kills the container of a running job attempt, so that its run ends now; no-op if none runs. */
    void kill(String jobId);

    /** Removes every container of this runner's owner that is still there (left by a crash, say), returning how many. */
    int removeStale();

    /** Whether the container runtime answers now (a worker whose engine does not is not ready for jobs). */
    default boolean answers() {
        return true;
    }

    @Override
    default void close() {
    }
}
