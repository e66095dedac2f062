package io.wharf.worker.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything needed to run one attempt of a job.
 *
 * @param image        image reference to run (a pinned digest when the function has one)
 * @param command      overrides the image CMD when not empty
 * @param entrypoint   overrides the image ENTRYPOINT when not null
 * @param env          environment, the job contract's variables included
 * @param memoryMb     memory limit, also the memory+swap limit
 * @param cpus         CPU quota in cores
 * @param timeout      wall-clock limit; the container is killed after it
 * @param hostNetwork  true for the host's network, false for none
 * @param user         uid[:gid] or name to run as, null for the image's user
 * @param payload      written to stdin and to the file named by {@code $PAYLOAD_FILE}
 * @param maxBodyBytes stdout beyond this is dropped and the outcome flagged truncated
 * @param registryUsername credentials for pulling the image, or null to use the engine host's Docker config
 * @param hot          keep containers warm between jobs (the hot protocol), or null for a fresh container per job
 * @param forward      for an HTTP-server function, the request to forward to its port; null for every other function
 */
public record RunRequest(String jobId, String function, int attempt, String image, List<String> command, List<String> entrypoint,
                         Map<String, String> env, int memoryMb, double cpus, Duration timeout, boolean hostNetwork, String user, byte[] payload,
                         int maxBodyBytes, String registryUsername, String registryPassword,
                         Hot hot, HttpForward forward) {
    public RunRequest(String jobId, String function, int attempt, String image, List<String> command, List<String> entrypoint,
                      Map<String, String> env, int memoryMb, double cpus, Duration timeout, boolean hostNetwork, String user, byte[] payload,
                      int maxBodyBytes, String registryUsername, String registryPassword, Hot hot) {
        this(jobId, function, attempt, image, command, entrypoint, env, memoryMb, cpus, timeout, hostNetwork, user, payload, maxBodyBytes,
                registryUsername, registryPassword, hot, null);
    }

    public RunRequest {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(timeout, "timeout");
        command = List.copyOf(command);
        entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
        env = Map.copyOf(env);
        if (memoryMb < 6) {
            throw new IllegalArgumentException("memoryMb " + memoryMb + " is below Docker's minimum of 6 MiB");
        }
        if (cpus <= 0) {
            throw new IllegalArgumentException("cpus " + cpus + " must be positive");
        }
    }

    /**
     * Warm-container settings of a hot function.
     *
     * @param idleTtl             an idle container is removed after this long
     * @param maxJobsPerContainer a container is replaced after this many jobs
     * @param prewarm             containers started ahead of need once the function is first seen
     * @param maxContainers       containers of this function at most on this worker
     */
    public record Hot(Duration idleTtl, int maxJobsPerContainer, int prewarm, int maxContainers) {
    }

    /**
     * The HTTP request an HTTP-server function's container answers.
     *
     * @param port    where the image's server listens, inside the container
     * @param method  GET, POST, ...
     * @param target  path and query as sent, from its slash
     * @param headers the caller's headers (less those hop-by-hop), by lower-case name
     */
    public record HttpForward(int port, String method, String target, Map<String, String> headers) {
        public HttpForward {
            headers = Map.copyOf(headers);
        }
    }
}
