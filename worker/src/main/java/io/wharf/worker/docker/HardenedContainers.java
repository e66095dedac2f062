package io.wharf.worker.docker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;

import io.wharf.worker.runtime.Labels;
import io.wharf.worker.runtime.RunRequest;
import io.wharf.worker.runtime.Usage;

/**
 * The one place containers are made, for fresh, warm and pre-started runs alike: the request's limits, the
 * default hardening (read-only root, no capabilities, no new privileges, a PID limit, network none unless asked)
 * and the owner's labels, by which its containers are found to kill and to clean up.
 */
final class HardenedContainers {
    private static final Logger log = LoggerFactory.getLogger(HardenedContainers.class);

    private static final long PIDS_LIMIT = 256;

    /** What a container is made for; only a fresh one knows its job, so only it carries the job's labels. */
    enum Use {
        JOB(null), HOT(Labels.HOT), PRESTARTED(Labels.PRESTARTED);

        /** The label that marks a container made ahead of (or for more than) one job. */
        final String marker;

        Use(String marker) {
            this.marker = marker;
        }
    }

    private final DockerClient docker;
    private final String owner;
    private final Cgroups cgroups;
    /** Container id to the token of its cgroup parent, while it exists. */
    private final Map<String, String> tokens = new java.util.concurrent.ConcurrentHashMap<>();

    HardenedContainers(DockerClient docker, String owner, Cgroups cgroups) {
        this.docker = docker;
        this.owner = owner;
        this.cgroups = cgroups;
    }

    /** What the container used so far (its processes that ended included); null when not measured. */
    Usage usage(String containerId) {
        return cgroups.read(tokens.get(containerId));
    }

    /** Starts the container's memory peak afresh: a warm container's next job is measured on its own. */
    void resetPeak(String containerId) {
        cgroups.resetPeak(tokens.get(containerId));
    }

    /** Removes the cgroup directories of containers an earlier run left (after removing those containers). */
    void removeStaleCgroups() {
        cgroups.removeStale();
    }

    /** Creates (does not start) a container for {@code request}; a {@link Use#JOB} container's stdin is open for the payload. */
    String create(RunRequest request, Use use, List<Bind> binds, List<String> extraEnv) {
        List<String> env = new ArrayList<>();
        request.env().forEach((k, v) -> env.add(k + "=" + v));
        env.addAll(extraEnv);
        long memory = request.memoryMb() * 1024L * 1024L;
        HostConfig host = HostConfig.newHostConfig()
                .withMemory(memory)
                .withMemorySwap(memory)
                .withNanoCPUs((long) (request.cpus() * 1_000_000_000L))
                .withNetworkMode(request.hostNetwork() ? "host" : "none")
                .withBinds(binds)
                .withReadonlyRootfs(true)
                .withTmpFs(Map.of("/tmp", "rw,nosuid,nodev,size=64m"))
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges"))
                .withPidsLimit(PIDS_LIMIT)
                // The local driver stores lines as bytes (json-file would mangle non-UTF-8 output).
                .withLogConfig(new LogConfig(LogConfig.LoggingType.LOCAL, Map.of("max-size", "32m", "max-file", "2", "compress", "false")));
        // Its own cgroup parent: what it used stays readable after it exited (see Cgroups).
        String token = cgroups.measures() ? java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 16) : null;
        if (token != null) {
            host.withCgroupParent(cgroups.parent(token));
        }
        CreateContainerCmd create = docker.createContainerCmd(request.image())
                .withEnv(env)
                .withLabels(labels(request, use))
                .withHostConfig(host);
        if (use == Use.JOB) {
            create.withStdinOpen(true).withStdInOnce(true).withAttachStdin(true);
        }
        if (!request.command().isEmpty()) {
            create.withCmd(request.command());
        }
        if (request.entrypoint() != null) {
            create.withEntrypoint(request.entrypoint());
        }
        if (request.user() != null && !request.user().isBlank()) {
            create.withUser(request.user());
        }
        String id = create.exec().getId();
        if (token != null) {
            tokens.put(id, token);
        }
        return id;
    }

    private Map<String, String> labels(RunRequest request, Use use) {
        Map<String, String> labels = new HashMap<>();
        labels.put(Labels.WORKER, owner);
        labels.put(Labels.FUNCTION, request.function());
        if (use == Use.JOB) {
            labels.put(Labels.JOB, request.jobId());
            labels.put(Labels.ATTEMPT, String.valueOf(request.attempt()));
        } else {
            labels.put(use.marker, "true");
        }
        return labels;
    }

    /** The owner's fresh containers of {@code jobId}, running or not (warm and pre-started ones carry no job label). */
    List<String> ofJob(String jobId) {
        return docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, owner, Labels.JOB, jobId)).exec().stream()
                .map(c -> c.getId()).toList();
    }

    /** Every container of the owner, running or not. */
    List<String> all() {
        return docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, owner)).exec().stream()
                .map(c -> c.getId()).toList();
    }

    void kill(String containerId) {
        try {
            docker.killContainerCmd(containerId).exec();
        } catch (RuntimeException e) {
            // It may have exited; or the engine is away (its transport fails with a bare RuntimeException), which the run's
            // outcome tells: a kill is never what fails a job.
            log.debug("Kill of {} failed: {}", containerId, e.getMessage());
        }
    }

    void remove(String containerId) {
        try {
            docker.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException e) {
            // already gone
        } catch (RuntimeException e) {
            // Cleanup never fails a job: an engine that is away (its socket gone while it restarts) leaves the container
            // to the worker's next removal of what its owner left (removeStale), and the run's own outcome stands.
            log.warn("Could not remove container {}: {}", containerId, e.getMessage());
            cgroups.close(tokens.get(containerId)); // its directories wait for that removal; its open files do not
            return;
        }
        cgroups.remove(tokens.remove(containerId));
    }
}
