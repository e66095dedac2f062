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

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.PullResponseItem;
import com.github.dockerjava.core.DefaultDockerClientConfig;

/**
 * The images this worker pulled, within a disk budget. Each image is pulled once however many jobs want it at
 * the same time; pull progress goes to the log. When the pulled images exceed the budget, the least recently
 * used ones that no job is using are removed. Images the worker did not pull (built or loaded on the host)
 * are never removed.
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

    ImageCache(DockerClient docker, long pullTimeoutMillis, long budgetBytes) {
        this.docker = docker;
        this.pullTimeoutMillis = pullTimeoutMillis;
        this.budgetBytes = budgetBytes;
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
        Long verified = verifiedAt.get(image);
        if (verified != null && System.nanoTime() - verified < VERIFIED_FOR_NANOS) {
            return null;
        }
        try {
            docker.inspectImageCmd(image).exec();
            verifiedAt.put(image, System.nanoTime());
            return null;
        } catch (NotFoundException e) {
            verifiedAt.remove(image);
        }
        CompletableFuture<Void> pull = pulls.computeIfAbsent(image, i -> CompletableFuture.runAsync(() -> pull(i, username, password)));
        try {
            pull.get(pullTimeoutMillis, TimeUnit.MILLISECONDS);
            evictOverBudget();
            return null;
        } catch (ExecutionException e) {
            release(image);
            return "Image " + image + " is not present and could not be pulled: " + e.getCause().getMessage();
        } catch (TimeoutException e) {
            release(image);
            return "Image " + image + " could not be pulled within " + pullTimeoutMillis + " ms";
        } finally {
            if (pull.isDone()) {
                pulls.remove(image, pull);
            }
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
                : DefaultDockerClientConfig.createDefaultConfigBuilder().build().effectiveAuthConfig(image);
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

    static String registryOf(String image) {
        int slash = image.indexOf('/');
        if (slash > 0) {
            String first = image.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                return first;
            }
        }
        return "https://index.docker.io/v1/";
    }
}
