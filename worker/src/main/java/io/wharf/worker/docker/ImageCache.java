package io.wharf.worker.docker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.worker.runtime.WorkerMeters;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.PullResponseItem;
import com.github.dockerjava.core.DefaultDockerClientConfig;

import io.wharf.secrets.FunctionSecrets;

/**
 * The images this worker pulled, within a disk budget. Each image is pulled once however many jobs want it at
 * the same time; pull progress goes to the log. When the pulled images exceed the budget, the least recently
 * used ones that no job is using are removed. Images the worker did not pull (built or loaded on the host)
 * are never removed.
 *
 * <p>An image from a registry that is present on the host is used for a job only once the job's credentials are
 * known to pull it: the first time a set of credentials meets a present image, the worker pulls it again with them
 * (the registry checks access and answers with the manifest; no layer moves). So a function cannot run another
 * tenant's private image because it happens to be cached. Images built on the host (no registry digest) are the
 * host's to use. A function without credentials pulls anonymously, unless the worker is told to lend it the host's.
 */
final class ImageCache {
    private static final Logger log = LoggerFactory.getLogger(ImageCache.class);

    private final DockerClient docker;
    private final long pullTimeoutMillis;
    private final long budgetBytes;
    private final Map<String, CompletableFuture<Void>> pulls = new ConcurrentHashMap<>();
    /** Guarded by this: the images we pulled, their size, last use and current users. */
    private final Map<String, Long> sizes = new HashMap<>();
    private final Map<String, Long> lastUsed = new HashMap<>();
    private final Map<String, Integer> inUse = new HashMap<>();
    /** Images seen present lately: warm paths skip the engine round trip of an inspect. */
    private final Map<String, Long> verifiedAt = new ConcurrentHashMap<>();
    private static final long VERIFIED_FOR_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** By image: fingerprints of the credentials that pulled it, or {@link #ANYONE} for an image built on the host. */
    private final Map<String, Set<String>> pullableWith = new ConcurrentHashMap<>();
    private static final String ANYONE = "*";
    private final boolean hostCredentials;

    private final WorkerMeters meters;

    ImageCache(DockerClient docker, long pullTimeoutMillis, long budgetBytes, boolean hostCredentials, WorkerMeters meters) {
        this.meters = meters;
        this.docker = docker;
        this.pullTimeoutMillis = pullTimeoutMillis;
        this.budgetBytes = budgetBytes;
        this.hostCredentials = hostCredentials;
    }

    /**
     * Makes sure {@code image} is present and marks it in use until {@link #release}; returns null when it is,
     * else why not (naming the image and the registry's answer).
     */
    String acquire(String image, String username, String password) throws InterruptedException {
        synchronized (this) {
            inUse.merge(image, 1, Integer::sum);
            lastUsed.put(image, System.nanoTime());
        }
        String credentials = fingerprint(username, password);
        Long verified = verifiedAt.get(image);
        if (verified != null && mayUse(image, credentials)
                && (System.nanoTime() - verified < VERIFIED_FOR_NANOS || !verifiedAt.replace(image, verified, System.nanoTime()))) {
            // Seen lately, or another job is checking it again right now: one inspect per lapse, not one per job
            // running when it lapses (every warm container's next job, at once).
            meters.image("hit");
            return null;
        }
        boolean present;
        try {
            var inspected = docker.inspectImageCmd(image).exec();
            present = true;
            verifiedAt.put(image, System.nanoTime());
            if (inspected.getRepoDigests() == null || inspected.getRepoDigests().isEmpty()) {
                pullableWith.computeIfAbsent(image, i -> ConcurrentHashMap.newKeySet()).add(ANYONE); // built here, no registry
            }
        } catch (NotFoundException e) {
            verifiedAt.remove(image);
            present = false;
        }
        if (present && mayUse(image, credentials)) {
            meters.image("hit");
            return null;
        }
        // Absent, or present but not yet pulled with these credentials: the registry decides.
        CompletableFuture<Void> pull = pulls.computeIfAbsent(image + "\0" + credentials,
                key -> CompletableFuture.runAsync(() -> pull(image, username, password)));
        try {
            pull.get(pullTimeoutMillis, TimeUnit.MILLISECONDS);
            pullableWith.computeIfAbsent(image, i -> ConcurrentHashMap.newKeySet()).add(credentials);
            evictOverBudget();
            meters.image("pulled");
            return null;
        } catch (ExecutionException e) {
            meters.image("failed");
            release(image);
            return present ? "Image " + image + " is on this worker, but the job's registry credentials "
                    + (username == null ? "(none)" : "(user " + username + ")") + " could not pull it, so it is not used: "
                    + e.getCause().getMessage()
                    : "Image " + image + " is not present and could not be pulled: " + e.getCause().getMessage();
        } catch (TimeoutException e) {
            meters.image("failed");
            release(image);
            return "Image " + image + " could not be pulled within " + pullTimeoutMillis + " ms";
        } finally {
            if (pull.isDone()) {
                pulls.remove(image + "\0" + credentials, pull);
            }
        }
    }

    private boolean mayUse(String image, String credentials) {
        Set<String> allowed = pullableWith.get(image);
        return allowed != null && (allowed.contains(ANYONE) || allowed.contains(credentials));
    }

    /** Who is asking, without keeping the password: a digest of user and password, or "anonymous". */
    private static String fingerprint(String username, String password) {
        if (username == null) {
            return "anonymous";
        }
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((username + "\0" + (password == null ? "" : password)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    synchronized void release(String image) {
        inUse.computeIfPresent(image, (k, n) -> n <= 1 ? null : n - 1);
        lastUsed.put(image, System.nanoTime());
    }

    private void pull(String image, String username, String password) {
        long begin = System.nanoTime();
        log.info("Pulling image {}", image);
        AuthConfig auth = username != null
                ? new AuthConfig().withUsername(username).withPassword(password).withRegistryAddress(registryOf(image))
                : hostCredentials ? DefaultDockerClientConfig.createDefaultConfigBuilder().build().effectiveAuthConfig(image) : null;
        Map<String, String> layerStatus = new ConcurrentHashMap<>();
        try {
            var cmd = docker.pullImageCmd(image);
            if (auth != null && (auth.getUsername() != null || auth.getIdentitytoken() != null || auth.getAuth() != null)) {
                cmd.withAuthConfig(auth);
            }
            cmd.exec(new PullImageResultCallback() {
                @Override
                public void onNext(PullResponseItem item) {
                    super.onNext(item);
                    if (item.getId() != null && item.getStatus() != null && !item.getStatus().equals(layerStatus.put(item.getId(), item.getStatus()))) {
                        log.info("Pull {}: layer {} {}", image, item.getId(), item.getStatus());
                    }
                }
            }).awaitCompletion(pullTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        long size = docker.inspectImageCmd(image).exec().getSize();
        synchronized (this) {
            sizes.put(image, size);
        }
        meters.imagePulled(size);
        log.info("Pulled image {} ({} bytes) in {} ms", image, size, (System.nanoTime() - begin) / 1_000_000);
    }

    /** Removes least recently used, unused pulled images until the pulled images fit the budget. */
    void evictOverBudget() {
        List<String> victims = new ArrayList<>();
        synchronized (this) {
            long total = sizes.values().stream().mapToLong(Long::longValue).sum();
            if (total <= budgetBytes) {
                return;
            }
            List<String> candidates = new ArrayList<>(sizes.keySet());
            candidates.removeIf(inUse::containsKey);
            candidates.sort(Comparator.comparing(i -> lastUsed.getOrDefault(i, 0L)));
            for (String image : candidates) {
                if (total <= budgetBytes) {
                    break;
                }
                victims.add(image);
                verifiedAt.remove(image);
                total -= sizes.remove(image);
                lastUsed.remove(image);
            }
        }
        for (String image : victims) {
            try {
                docker.removeImageCmd(image).withForce(false).exec();
                log.info("Removed image {} (least recently used, over the image cache budget of {} bytes)", image, budgetBytes);
            } catch (ConflictException e) {
                log.info("Image {} is still used by a container; kept", image);
            } catch (NotFoundException e) {
                // already gone
            } catch (DockerException e) {
                log.warn("Could not remove image {}: {}", image, e.getMessage());
            }
        }
    }

    synchronized Set<String> pulledImages() {
        return new HashSet<>(sizes.keySet());
    }

    /** The registry address Docker's credentials name for the image's host. */
    static String registryOf(String image) {
        String host = FunctionSecrets.registryHost(image);
        return host.equals(FunctionSecrets.DEFAULT_REGISTRY) ? "https://index.docker.io/v1/" : host;
    }
}
