package io.wharf.worker.internals;

import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.FunctionSpec;
import io.wharf.records.HttpRequest;
import io.wharf.records.Job;
import io.wharf.records.JobPhase;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;
import io.wharf.records.NetworkMode;
import io.wharf.records.Timings;
import io.wharf.rules.JobStates;
import io.wharf.rules.Results;
import io.wharf.records.PoolPolicy;
import io.wharf.records.ResourceUsage;
import io.wharf.rules.PoolPolicies;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;
import io.wharf.topics.Topics;
import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.worker.runtime.EventEnvironment;
import io.wharf.worker.runtime.HttpEnvironment;
import io.wharf.worker.runtime.RunRequest;
import io.wharf.worker.runtime.Usage;
import io.wharf.worker.runtime.WorkerMeters;
import io.wharf.ops.Traces;
import io.opentelemetry.api.trace.Tracer;

/**
 * One job attempt from start to result: the job becomes a run request, the runner runs it, and its outcome
 * becomes the attempt's {@link JobResult}. Cancels are honoured before, while (the container is killed) and right
 * after the run. Times come from the injected clock, so every status can be checked without a container engine.
 */
public final class JobExecution {
    private static final Logger log = LoggerFactory.getLogger(JobExecution.class);
    /** How often a cancelled job's container is killed again until its run ends. */
    private static final Duration KILL_REPEAT = Duration.ofMillis(200);

    /**
     * @param maxBodyBytes the result body keeps at most this much of stdout
     * @param slots        jobs the worker runs at once, the cap of a hot function's warm containers
     * @param secretsKey   opens sealed registry passwords and secret environment; null when the worker has none
     * @param policy       the pool's current policy, which every job's function must keep
     */
    public record Settings(String workerId, int maxBodyBytes, int slots, SealedSecrets secretsKey, int maxCrashes, Supplier<PoolPolicy> policy) {
    }

    private final Settings settings;
    private final ContainerRunner runner;
    private final Cancels cancels;
    private final Function<Job, LogShipper> logs;
    private final WorkerMeters meters;
    private final Tracer tracer;
    private final Clock clock;
    private final Set<String> runningNow = ConcurrentHashMap.newKeySet();
    private final Function<JobState, Future<?>> running;

    /**
     * @param running tells {@code wharf.status} that a job runs, outside the worker's transactions (it is not part of
     *                an outcome); the future completes when the broker has it, and the job's result waits for it, so
     *                the running state never lands after the final one
     */
    public JobExecution(Settings settings, ContainerRunner runner, Cancels cancels, Function<Job, LogShipper> logs,
                        Function<JobState, Future<?>> running, WorkerMeters meters, Tracer tracer, Clock clock) {
        this.tracer = tracer;
        this.settings = settings;
        this.running = running;
        this.runner = runner;
        this.cancels = cancels;
        this.logs = logs;
        this.meters = meters;
        this.clock = clock;
    }

    public long now() {
        return clock.millis();
    }

    /** Job ids whose containers run right now. */
    public Set<String> running() {
        return Set.copyOf(runningNow);
    }

    /**
     * A cancel request arrived: kills the job's container until its run ends. A cancel that lands between a
     * container's create and start (or before a warm container got the job) finds nothing to kill on the first try.
     */
    public void cancel(String jobId) {
        if (!runningNow.contains(jobId)) {
            return;
        }
        log.info("Job {} cancelled while running: killing its container", jobId);
        Thread.ofVirtual().name("wharf-cancel-" + jobId).start(() -> {
            while (runningNow.contains(jobId)) {
                runner.kill(jobId);
                try {
                    Thread.sleep(KILL_REPEAT);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /**
     * The result of a job that is not to run at all, or null if it is to run: cancelled before it started, or taken
     * past its deadline (a backlog older than the function allows, which a restarted worker would otherwise run).
     */
    public JobResult beforeRun(Job job, long dequeuedAt) {
        String reason = cancels.reason(job.getJobId());
        if (reason != null) {
            log.info("Job {} was cancelled before it started: skipped", job.getJobId());
            return cancelled(job, dequeuedAt, reason, null);
        }
        return pastDeadline(job, dequeuedAt) ? expired(job, dequeuedAt) : null;
    }

    /**
     * The final result of a job not run again because it was running on {@code crashes} workers that died, when that
     * reaches {@code max.crashes}; otherwise null.
     */
    public JobResult crashedTooOften(Job job, long dequeuedAt, int crashes) {
        if (crashes < settings.maxCrashes()) {
            return null;
        }
        log.warn("Job {} was running on {} workers that died without finishing it: not run again", job.getJobId(), crashes);
        return failure(job, dequeuedAt, "Job " + job.getJobId() + " was running on " + crashes + " workers that died without finishing it; "
                + "it is not run again (wharf.worker.max.crashes = " + settings.maxCrashes() + ") and its job record is on " + Topics.DLQ);
    }

    /** Runs the attempt taken at {@code dequeuedAt}; interrupted, it is abandoned (its container removed). */
    public JobResult run(Job job, long dequeuedAt) throws InterruptedException {
        FunctionSpec fn = job.getFunction();
        JobSpans spans = JobSpans.start(tracer, job);
        RunRequest request;
        try {
            request = request(job, spans.traceparent());
        } catch (IllegalArgumentException e) {
            return spans.ended(failure(job, dequeuedAt, e.getMessage()), null);
        }
        LogShipper output = logs.apply(job);
        RunOutcome outcome;
        runningNow.add(job.getJobId());
        meters.running(fn.getName(), 1);
        RunningNotice told = new RunningNotice(job);
        try {
            String cancelledEarly = cancels.reason(job.getJobId());
            if (cancelledEarly != null) {
                return spans.ended(cancelled(job, dequeuedAt, cancelledEarly, null), null);
            }
            outcome = runner.run(request, output);
        } finally {
            runningNow.remove(job.getJobId());
            meters.running(fn.getName(), -1);
            told.settle();
        }
        output.onEnd();
        JobStatus status = status(outcome);
        String cancelReason = cancels.reason(job.getJobId());
        // A run that succeeded stays SUCCEEDED: the cancel came too late to stop it, and a final status is never overwritten.
        if (cancelReason != null && status != JobStatus.SUCCEEDED) {
            output.system("[wharf] CANCELLED: " + cancelReason);
            return spans.ended(cancelled(job, dequeuedAt, cancelReason, outcome), outcome);
        }
        String error = error(status, outcome, fn);
        if (error != null) {
            output.system("[wharf] " + status + ": " + error);
        }
        long now = clock.millis();
        log.info("Job {} of {} {} in {} ms", job.getJobId(), fn.getName(), status, now - dequeuedAt);
        boolean quietStderr = status == JobStatus.SUCCEEDED || outcome.stderrTail() == null || outcome.stderrTail().isEmpty();
        return spans.ended(result(job, status, error, timings(job, dequeuedAt, outcome, now).setPulledAt(nonZero(outcome.pulledAt())).build(), now)
                .setExitCode(outcome.exitCode())
                .setBody(ByteBuffer.wrap(sealedToCaller(job, outcome.stdout())))
                .setBodyTruncated(outcome.stdoutTruncated())
                .setStderrTail(quietStderr ? null : outcome.stderrTail())
                .setImageDigest(outcome.imageId())
                .setUsage(usage(outcome.usage()))
                .build(), outcome);
    }

    /** The body as the result carries it: sealed to the caller's key when its event named one (and its stdout was not logged). */
    private static byte[] sealedToCaller(Job job, byte[] stdout) {
        String replyKey = job.getHeaders().get(PayloadEnvelope.REPLY_KEY_HEADER);
        if (replyKey == null) {
            return stdout;
        }
        try {
            return PayloadEnvelope.seal(stdout, "application/octet-stream", PayloadEnvelope.publicKey(replyKey));
        } catch (IllegalArgumentException e) {
            // Written past Wharf's clients, which check it: the answer is kept from everyone rather than given in clear.
            log.warn("Job {}: its reply key is no RSA public key ({}); its result carries no body", job.getJobId(), e.getMessage());
            return new byte[0];
        }
    }

    /**
     * A job's RUNNING state, told only if it still runs after {@link #RUNNING_AFTER}: a quick job goes from QUEUED
     * straight to its end, without a write (and a wait for it) on its path. Once told, the result waits until the
     * broker has the state, so that it never lands after the final one.
     */
    private final class RunningNotice {
        private final CompletableFuture<Future<?>> sent = new CompletableFuture<>();
        private final Job job;

        RunningNotice(Job job) {
            this.job = job;
            CompletableFuture.delayedExecutor(RUNNING_AFTER.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
                synchronized (sent) {
                    if (!sent.isDone()) {
                        JobState state = JobStates.of(job, JobPhase.RUNNING, clock.millis(), null);
                        state.setWorkerId(settings.workerId());
                        try {
                            sent.complete(running.apply(state));
                        } catch (org.apache.kafka.common.KafkaException e) {
                            sent.complete(CompletableFuture.failedFuture(e)); // a producer buffer full past its max.block.ms
                        }
                    }
                }
            });
        }

        /** Ends the notice: no state if it was not told yet, else waits (bounded) until the broker has it. */
        void settle() throws InterruptedException {
            Future<?> told;
            synchronized (sent) {
                if (!sent.isDone()) {
                    sent.complete(null);
                }
                told = sent.join();
            }
            if (told == null) {
                return;
            }
            try {
                told.get(TELL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                // The running state is a courtesy: a lost one leaves the job QUEUED until its final state, never wrong after it.
                log.debug("Job {}: its running state was not written: {}", job.getJobId(), e.toString());
            }
        }
    }

    /** How long a job runs before its RUNNING state is written. */
    static final java.time.Duration RUNNING_AFTER = java.time.Duration.ofMillis(100);

    private static final int TELL_TIMEOUT_SECONDS = 5;

    /** How a run ended, in the order that explains it best: the engine's error, the timeout, the memory limit, the exit code. */
    static JobStatus status(RunOutcome outcome) {
        if (outcome.error() != null) {
            return JobStatus.FAILED;
        } else if (outcome.timedOut()) {
            return JobStatus.TIMED_OUT;
        } else if (outcome.oomKilled()) {
            return JobStatus.OOM_KILLED;
        }
        return outcome.exitCode() != null && outcome.exitCode() == 0 ? JobStatus.SUCCEEDED : JobStatus.FAILED;
    }

    private static String error(JobStatus status, RunOutcome outcome, FunctionSpec fn) {
        return switch (status) {
            case SUCCEEDED -> null;
            case TIMED_OUT -> "Killed after its timeout of " + fn.getTimeoutMillis() + " ms";
            case OOM_KILLED -> "Killed for exceeding its memory limit of " + fn.getMemoryMb() + " MiB (exit code " + outcome.exitCode() + ")";
            default -> outcome.error() != null ? outcome.error() : "Exited with code " + outcome.exitCode();
        };
    }

    /** The result of a job cancelled before it ran ({@code outcome} null) or while it ran. */
    public JobResult cancelled(Job job, long dequeuedAt, String reason, RunOutcome outcome) {
        long now = clock.millis();
        return result(job, JobStatus.CANCELLED, "Cancelled: " + reason, timings(job, dequeuedAt, outcome, now).build(), now)
                .setExitCode(outcome == null ? null : outcome.exitCode())
                .setUsage(outcome == null ? null : usage(outcome.usage()))
                .build();
    }

    /** The result of a job taken past its deadline: a backlog older than the function allows is not run. */
    JobResult expired(Job job, long dequeuedAt) {
        long now = clock.millis();
        FunctionSpec fn = job.getFunction();
        String error = "Job " + job.getJobId() + " expired: taken " + (dequeuedAt - job.getEventCreatedAt().toEpochMilli())
                + " ms after its event, past function '" + fn.getName() + "''s maxJobAgeMillis of " + fn.getMaxJobAgeMillis();
        return result(job, JobStatus.EXPIRED, error, timings(job, dequeuedAt, null, now).build(), now).build();
    }

    /** The result of a job this worker could not run at all. */
    public JobResult failure(Job job, long dequeuedAt, String error) {
        long now = clock.millis();
        return result(job, JobStatus.FAILED, error, Timings.newBuilder().setDequeuedAt(dequeuedAt).setFinishedAt(now).build(), now).build();
    }

    /** The use a runner measured, as results carry it; null when it measured none. */
    static ResourceUsage usage(Usage measured) {
        return measured == null ? null : new ResourceUsage(measured.cpuNanos() / 1e9, measured.peakMemoryBytes(), measured.readBytes(),
                measured.writtenBytes());
    }

    /** Whether the job is past its deadline at {@code dequeuedAt}. */
    private static boolean pastDeadline(Job job, long dequeuedAt) {
        return job.getDeadline() != null && dequeuedAt > job.getDeadline().toEpochMilli();
    }

    private JobResult.Builder result(Job job, JobStatus status, String error, Timings timings, long now) {
        return Results.of(job, status, error, now).setWorkerId(settings.workerId()).setTimings(timings)
                .setTraceparent(job.getTraceContext().get(Traces.TRACEPARENT)); // the run's own, when it ran (JobSpans)
    }

    /**
     * What the runner needs for this attempt, its container given {@code traceparent} (when there is one) as
     * {@code TRACEPARENT}; throws naming the function and value when a sealed one cannot be opened.
     */
    RunRequest request(Job job, String traceparent) {
        FunctionSpec fn = job.getFunction();
        PoolPolicy policy = settings.policy().get();
        PoolPolicies.violation(policy, fn).ifPresent(reason -> {
            throw new IllegalArgumentException("Refused by the policy of its pool: " + reason);
        });
        Map<String, String> env = new HashMap<>(fn.getEnv());
        env.putAll(FunctionSecrets.openEnv(settings.secretsKey(), fn));
        env.put("WHARF_JOB_ID", job.getJobId());
        env.put("WHARF_FUNCTION", fn.getName());
        env.put("WHARF_ATTEMPT", String.valueOf(job.getAttempt()));
        env.putAll(HttpEnvironment.of(job.getHttp()));
        env.putAll(EventEnvironment.of(job.getKey(), job.getHeaders()));
        if (traceparent != null) {
            env.put("TRACEPARENT", traceparent);
            String state = job.getTraceContext().get(Traces.TRACESTATE);
            if (state != null) {
                env.put("TRACESTATE", state);
            }
        }
        String password = FunctionSecrets.openRegistryPassword(settings.secretsKey(), fn);
        byte[] payload = Utils.toArray(job.getPayload());
        String image = fn.getImageDigest() != null ? fn.getImageDigest() : fn.getImage();
        int slots = settings.slots();
        RunRequest.Hot hot = fn.getHot() == null ? null : new RunRequest.Hot(Duration.ofMillis(fn.getHot().getIdleTtlMillis()),
                fn.getHot().getMaxJobsPerContainer(), fn.getHot().getPrewarm(),
                fn.getMaxConcurrency() != null ? Math.min(fn.getMaxConcurrency(), slots) : slots);
        return new RunRequest(job.getJobId(), fn.getName(), job.getAttempt(), image, fn.getCommand(), fn.getEntrypoint(), env,
                fn.getMemoryMb(), fn.getCpus(), Duration.ofMillis(fn.getTimeoutMillis()), fn.getNetwork() == NetworkMode.HOST, PoolPolicies.effectiveUser(policy, fn),
                payload, settings.maxBodyBytes(), fn.getRegistryAuth() == null ? null : fn.getRegistryAuth().getUsername(), password, hot, forward(job));
    }

    /**
     * What an HTTP-server function's container is asked: the request the job came from, or, for a job from anywhere
     * else, {@code POST /} with its payload and content type.
     */
    private static RunRequest.HttpForward forward(Job job) {
        Integer port = job.getFunction().getHttpPort();
        if (port == null) {
            return null;
        }
        HttpRequest http = job.getHttp();
        if (http == null) {
            return new RunRequest.HttpForward(port, "POST", "/", Map.of("content-type", job.getContentType()));
        }
        return new RunRequest.HttpForward(port, http.getMethod(), http.getPath() + (http.getQuery().isEmpty() ? "" : "?" + http.getQuery()),
                http.getHeaders());
    }

    /** The job's timings so far, with the container's lifetime when it ran. */
    private static Timings.Builder timings(Job job, long dequeuedAt, RunOutcome outcome, long now) {
        Timings.Builder timings = Timings.newBuilder().setEventCreatedAt(job.getEventCreatedAt().toEpochMilli())
                .setEnqueuedAt(job.getEnqueuedAt().toEpochMilli()).setDequeuedAt(dequeuedAt).setFinishedAt(now);
        if (outcome != null) {
            timings.setCreatedAt(nonZero(outcome.createdAt())).setStartedAt(nonZero(outcome.startedAt()))
                    .setExitedAt(nonZero(outcome.exitedAt())).setRemovedAt(nonZero(outcome.removedAt())).setReadyAt(nonZero(outcome.readyAt()));
        }
        return timings;
    }

    private static Long nonZero(long millis) {
        return millis == 0 ? null : millis;
    }
}
