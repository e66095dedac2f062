package io.wharf.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Calls at a fixed rate, evenly spaced, whatever the answers' pace (an open loop, as wrk2 or vegeta send; Debian has
 * neither). A call's latency counts from when it was due, so a stall shows in the figures instead of slowing the
 * sender. hey's {@code -q} instead gives each of its {@code -c} clients the rate over {@code -c}, and they start
 * together, so its load comes in bursts of {@code -c} calls: that measures how fast a burst clears, where this
 * measures a call's path at a load both sides can carry.
 */
final class OpenLoop {
    private OpenLoop() {
    }

    /** p50 and p99 of the calls, in ms; each POSTs {@code body} to {@code url} and must answer 200. */
    static double[] run(String url, String key, String body, double perSecond, Duration length) throws InterruptedException {
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            return run(http, url, key, body, perSecond, length);
        }
    }

    private static double[] run(HttpClient http, String url, String key, String body, double perSecond, Duration length) throws InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "text/plain");
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        HttpRequest call = request.build();
        int n = (int) Math.max(1, perSecond * length.toMillis() / 1000);
        long interval = (long) (1e9 / perSecond);
        ConcurrentLinkedQueue<Double> latencies = new ConcurrentLinkedQueue<>();
        AtomicReference<String> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(n);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        for (int i = 0; i < n; i++) {
            long due = start + i * interval;
            for (long wait; (wait = due - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(wait);
            }
            http.sendAsync(call, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
                latencies.add((System.nanoTime() - due) / 1e6);
                if (error != null || response.statusCode() != 200) {
                    failure.compareAndSet(null, error != null ? error.toString() : response.statusCode() + " " + response.body());
                }
                done.countDown();
            });
        }
        if (!done.await(2, TimeUnit.MINUTES) || failure.get() != null) {
            throw new IllegalStateException("open-loop calls to " + url + " failed: " + failure.get());
        }
        List<Double> all = new ArrayList<>(latencies);
        return new double[] {Bench.p(all, 0.5), Bench.p(all, 0.99)};
    }
}
