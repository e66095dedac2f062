package io.wharf.worker.runtime;

/**
 * The labels a runner puts on its containers, so that {@code docker ps --filter label=...} finds them: every
 * container carries its owner (the worker's id) and function; a fresh container also its job and attempt; a warm
 * or pre-started one, which serves jobs it did not know when made, a marker instead.
 */
public final class Labels {
    public static final String WORKER = "wharf.worker";
    public static final String JOB = "wharf.job";
    public static final String FUNCTION = "wharf.function";
    public static final String ATTEMPT = "wharf.attempt";
    public static final String HOT = "wharf.hot";
    public static final String PRESTARTED = "wharf.prestarted";

    private Labels() {
    }

    /**
     * The name of the container running a job's attempt, {@code wharf-job-JOBID-ATTEMPT}, with what a container name
     * cannot hold replaced by '_': {@code docker ps --filter name=...} finds it, pre-started containers included.
     */
    public static String jobContainerName(String jobId, int attempt) {
        String name = "wharf-job-" + jobId.replaceAll("[^a-zA-Z0-9_.-]", "_") + "-" + attempt;
        return name.length() > 200 ? name.substring(0, 200) : name;
    }
}
