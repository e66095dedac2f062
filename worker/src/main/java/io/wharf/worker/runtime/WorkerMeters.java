package io.wharf.worker.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.wharf.ops.Metrics;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.ResourceUsage;
import io.wharf.records.Timings;

/**
 * Every meter a worker records, named here and nowhere else (docs/metrics.md lists them). Prometheus shows
 * {@code wharf.worker.jobs} as {@code wharf_worker_jobs_total}, timers in seconds with their histogram buckets.
 */
public final class WorkerMeters {
    /** Final results the worker wrote, by function, tenant and status. */
    public static final String JOBS = "wharf.worker.jobs";
    /** Attempts that ended in a retry (reported to the dispatcher, which retries them), by function. */
    public static final String RETRIED = "wharf.worker.attempts.retried";
    /** A container's life split by phase: pull, create, start, run, teardown; by function. */
    public static final String CONTAINER = "wharf.worker.container";
    /** From the event's creation to its container's start (or its warm container taking it), by function. */
    public static final String QUEUE_WAIT = "wharf.worker.queue.wait";
    /** Jobs whose containers run now, by function. */
    public static final String IN_FLIGHT = "wharf.worker.jobs.in.flight";
    /** Records of the pool's job partition not yet taken by this worker, by pool and partition (its assigned ones). */
    public static final String LAG = "wharf.worker.lag";
    /** Warm containers of hot functions, by function and state (idle, busy). */
    public static final String WARM = "wharf.worker.warm.containers";
    /** How a hot function's job got its warm container, by function: hit (an idle one), started (a new one), waited (for a busy one). */
    public static final String WARM_ACQUIRED = "wharf.worker.warm.acquired";
    /** Containers started ahead of need for cold jobs and ready now. */
    public static final String PRESTARTED = "wharf.worker.prestarted.containers";
    /** Whether a cold job found a pre-started container, by function and outcome (hit, miss). */
    public static final String PRESTART_TAKEN = "wharf.worker.prestarted.taken";
    /** A job's image: present (hit) or pulled (miss), or the pull failed, by outcome. */
    public static final String IMAGE_CACHE = "wharf.worker.image.cache";
    /** Bytes of the images pulled. */
    public static final String IMAGE_PULLED = "wharf.worker.image.pulled";
    /** CPU seconds jobs' containers used, by function and tenant: what a tenant is billed for. */
    public static final String CPU = "wharf.worker.usage.cpu";
    /** Seconds jobs' containers ran (start to exit, or to the answer of a warm one), by function and tenant. */
    public static final String RUN = "wharf.worker.usage.run";
    /** Block I/O of jobs' containers, by function, tenant and direction (read, write). */
    public static final String IO = "wharf.worker.usage.io";
    /** Jobs' peak memory, by function: its distribution (count, sum, max). */
    public static final String PEAK_MEMORY = "wharf.worker.usage.memory.peak";

    private final MeterRegistry registry;
    /** Meters by name and tag values ({@link Metrics#key}): a job's path looks each up in one map instead of building its id every time. */
    private final Map<List<String>, Counter> counters = new ConcurrentHashMap<>();
    private final Map<List<String>, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, DistributionSummary> summaries = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Gauge> lagGauges = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lag = new ConcurrentHashMap<>();

    public WorkerMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Meters nobody reads, for a runner made outside a worker (tests, benchmarks). */
    public static WorkerMeters none() {
        return new WorkerMeters(new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    }

    /**
     * A gauge of {@code name} with these tags, read from {@code value} at each scrape; registering the same one again
     * keeps the first (so a pool may register its function's gauge each time it is made).
     */
    public void gauge(String name, java.util.function.Supplier<Number> value, String... tags) {
        Gauge.builder(name, value).tags(tags).register(registry);
    }

    public void warmAcquired(String function, String how) {
        counter(WARM_ACQUIRED, "How jobs of hot functions got their warm container", null, "function", function, "how", how).increment();
    }

    public void prestartTaken(String function, boolean hit) {
        counter(PRESTART_TAKEN, "Cold jobs that found a pre-started container, or not", null, "function", function, "outcome", hit ? "hit" : "miss")
                .increment();
    }

    /** {@code outcome}: hit, pulled or failed. */
    public void image(String outcome) {
        counter(IMAGE_CACHE, "Jobs' images: present, pulled or not pullable", null, "outcome", outcome).increment();
    }

    public void imagePulled(long bytes) {
        counter(IMAGE_PULLED, "Bytes of images pulled", "bytes").increment(bytes);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** An attempt's outcome: a final result ({@code last}) or a retry; with its timings, split by phase. */
    public void attempt(Job job, JobResult result, boolean last) {
        String function = job.getFunction().getName();
        if (last) {
            counter(JOBS, "Final results written by the worker", null, "function", function, "tenant", job.getTenant(), "status", result.getStatus().name())
                    .increment();
        } else {
            counter(RETRIED, "Attempts reported for a retry", null, "function", function).increment();
        }
        usage(function, job.getTenant(), result);
        Timings t = result.getTimings();
        if (t == null || t.getStartedAt() == null || t.getExitedAt() == null) {
            return; // never ran a container: nothing to split
        }
        long dequeued = t.getDequeuedAt() == null ? 0 : t.getDequeuedAt();
        Long pulled = t.getPulledAt();
        // A prestarted or warm container was created and started before the job came: those phases are not the job's.
        if (pulled != null && dequeued > 0 && pulled >= dequeued) {
            phase(function, "pull", pulled - dequeued);
        }
        if (t.getCreatedAt() != null && t.getCreatedAt() >= dequeued && pulled != null) {
            phase(function, "create", t.getCreatedAt() - Math.max(pulled, dequeued));
            phase(function, "start", t.getStartedAt() - t.getCreatedAt());
        }
        phase(function, "run", t.getExitedAt() - Math.max(t.getStartedAt(), dequeued));
        if (t.getEventCreatedAt() != null) {
            timer(QUEUE_WAIT, "From the event to its container's start", function).record(
                    Math.max(0, Math.max(t.getStartedAt(), dequeued) - t.getEventCreatedAt()), TimeUnit.MILLISECONDS);
        }
    }

    /** What the attempt's container used, counted per function and tenant (every attempt ran, retried ones too). */
    private void usage(String function, String tenant, JobResult result) {
        Timings t = result.getTimings();
        if (t != null && t.getStartedAt() != null && t.getExitedAt() != null && t.getExitedAt() >= t.getStartedAt()) {
            counter(RUN, "Seconds jobs' containers ran", "seconds", "function", function, "tenant", tenant).increment((t.getExitedAt() - t.getStartedAt()) / 1000.0);
        }
        ResourceUsage u = result.getUsage();
        if (u == null) {
            return;
        }
        counter(CPU, "CPU seconds jobs' containers used", "seconds", "function", function, "tenant", tenant).increment(u.getCpuSeconds());
        counter(IO, "Block I/O of jobs' containers", "bytes", "function", function, "tenant", tenant, "direction", "read").increment(u.getReadBytes());
        counter(IO, "Block I/O of jobs' containers", "bytes", "function", function, "tenant", tenant, "direction", "write").increment(u.getWrittenBytes());
        summaries.computeIfAbsent(function, f -> DistributionSummary.builder(PEAK_MEMORY).description("Jobs' peak memory").baseUnit("bytes")
                .tag("function", f).register(registry)).record(u.getPeakMemoryBytes());
    }

    /**
     * Runs a container's {@code removal}, the last phase of its life, timed as {@code function}'s teardown. It happens
     * after the answer (the caller does not wait for it), so it is measured as it ends rather than read from the result.
     */
    public void stop(String function, Runnable removal) {
        long begin = System.nanoTime();
        removal.run();
        phase(function, "teardown", (System.nanoTime() - begin) / 1_000_000);
    }

    private void phase(String function, String phase, long millis) {
        if (millis >= 0) {
            timer(CONTAINER, "A container's life by phase", "function", function, "phase", phase).record(millis, TimeUnit.MILLISECONDS);
        }
    }

    private Timer timer(String name, String description, String function) {
        return timer(name, description, "function", function);
    }

    /** The timer of {@code name} with these tags (pairs of key and value), a histogram for quantiles across workers. */
    private Timer timer(String name, String description, String... tags) {
        return timers.computeIfAbsent(Metrics.key(name, tags), k -> Timer.builder(name).description(description).tags(tags)
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofHours(1)).register(registry));
    }

    /** The counter of {@code name} with these tags (pairs of key and value). */
    private Counter counter(String name, String description, String baseUnit, String... tags) {
        return counters.computeIfAbsent(Metrics.key(name, tags), k -> Counter.builder(name).description(description).baseUnit(baseUnit)
                .tags(tags).register(registry));
    }

    /** A job's container starts running ({@code +1}) or ends ({@code -1}). */
    public void running(String function, int delta) {
        inFlight.computeIfAbsent(function, f -> {
            AtomicInteger count = new AtomicInteger();
            Gauge.builder(IN_FLIGHT, count, AtomicInteger::get).description("Jobs whose containers run now").tag("function", f).register(registry);
            return count;
        }).addAndGet(delta);
    }

    /** The partition's lag as the worker's consumer last saw it. */
    public void lag(String pool, int partition, long records) {
        lag.computeIfAbsent(pool + "/" + partition, key -> {
            AtomicLong value = new AtomicLong();
            lagGauges.put(key, Gauge.builder(LAG, value, AtomicLong::get).description("Job records not yet taken, per assigned partition")
                    .baseUnit("records").tags("pool", pool, "partition", Integer.toString(partition)).register(registry));
            return value;
        }).set(records);
    }

    /** The partition moved to another worker: its lag is that worker's to tell. */
    public void lagGone(String pool, int partition) {
        String key = pool + "/" + partition;
        lag.remove(key);
        Gauge gauge = lagGauges.remove(key);
        if (gauge != null) {
            registry.remove(gauge);
        }
    }
}
