package io.wharf.worker;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.wharf.records.Attempt;
import io.wharf.records.AttemptSummary;
import io.wharf.records.DeadLetter;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.LogLine;
import io.wharf.records.NetworkMode;
import io.wharf.records.Ordering;
import io.wharf.records.Timings;
import io.wharf.secrets.SealedSecrets;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.AttemptRecords;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.TopicSchemas;
import io.wharf.topics.Topics;
import io.wharf.worker.docker.DockerContainerRunner;
import io.wharf.worker.internals.CancelWatcher;
import io.wharf.worker.internals.JobQueue;
import io.wharf.worker.internals.LogShipper;
import io.wharf.worker.internals.PartitionTracker;
import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.RunOutcome;
import io.wharf.worker.runtime.RunRequest;

/**
 * A worker of one pool: consumes {@code wharf.jobs.<pool>}, runs each job in a container, and publishes its
 * result to {@code wharf.results}.
 *
 * <p>Container output is streamed line by line to {@code wharf.logs} while the job runs (capped per attempt,
 * with a marker saying what was dropped); the result body keeps the first {@code max.body.bytes} of stdout.
 *
 * <p>One thread owns the consumer and the transactional producer (neither is shared); jobs run on virtual
 * threads and hand their results back through a queue. Results and the offsets they free are committed in
 * one Kafka transaction, fenced by the consumer group's metadata: a job's offset is committed only with or
 * after its result, and a worker that lost its partitions cannot commit for them any more. A worker that
 * dies mid-job leaves the job uncommitted, so another worker runs it again.
 */
public final class Worker implements AutoCloseable {
    /** Where a worker is in its life; {@link #STOPPED} and {@link #FAILED} are final. */
    public enum State {
        CREATED, STARTING, RUNNING, STOPPING, STOPPED, FAILED;

        public boolean ended() {
            return this == STOPPED || this == FAILED;
        }
    }

    /** How long close() waits beyond the drain timeout for the results to be committed and the clients closed. */
    private static final Duration CLOSE_MARGIN = Duration.ofSeconds(60);
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);

    private final WorkerConfig config;
    private final String workerId;
    private final String topic;
    private final int slots;
    private final SchemaRegistryClient registry;
    /** Whether the schemas of everything this worker writes are registered (loop thread only). */
    private boolean outputsRegistered;
    /** Opens sealed registry passwords; null without {@link WorkerConfig#SECRETS_KEY_CONFIG}. */
    private final SealedSecrets secrets;
    private final int prefetch;
    private final ContainerRunner runner;
    private final MeterRegistry meters;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    /** Logs are streamed outside the result transactions: they must flow while a job runs. */
    private final KafkaProducer<String, byte[]> logProducer;
    private final AvroSerializer<LogLine> logLines;
    private final AvroDeserializer<Job> jobs;
    private final AvroSerializer<JobResult> results;
    private final AvroSerializer<Attempt> attempts;
    private final AvroSerializer<DeadLetter> deadLetters;
    private final ExecutorService executor;
    private final BlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
    private final Map<TopicPartition, PartitionTracker> trackers = new HashMap<>();
    private final Map<TopicPartition, List<Future<?>>> running = new HashMap<>();
    private final JobQueue<Taken> queue = new JobQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread loop;
    private final CancelWatcher cancels;
    private final java.util.Set<String> runningJobs = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;
    private volatile State state = State.CREATED;
    private final java.util.concurrent.atomic.AtomicBoolean wakeupPending = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile java.util.Set<TopicPartition> assigned = java.util.Set.of();
    private int inFlight;
    private long lastCommitNanos;
    /** Finished jobs of owned partitions whose results are not yet in a transaction (loop thread only). */
    private final List<Completion> uncommitted = new ArrayList<>();
    private Future<CommitResult> commitInFlight;
    /** Partitions held at a job the registry could not decode yet, with when to read it again (loop thread only). */
    private final Map<TopicPartition, Long> registryWaits = new HashMap<>();
    private static final Duration REGISTRY_RETRY = Duration.ofSeconds(1);
    private final ExecutorService committer;

    /** A job's outcome on its way back to the poll loop; {@code records} is empty for an abandoned job. */
    private record Completion(TopicPartition partition, PartitionTracker tracker, long offset, List<ProducerRecord<String, byte[]>> records,
                              String jobId, String orderingKey) {
    }

    /** A job taken from its partition, decoded; {@code job} is null when the record could not be decoded. */
    private record Taken(ConsumerRecord<String, byte[]> record, TopicPartition partition, PartitionTracker tracker, Job job,
                         String decodeError, String orderingKey) {
    }

    public Worker(Map<String, ?> settings) {
        this(new WorkerConfig(settings));
    }

    public Worker(WorkerConfig config) {
        this(config, new HttpSchemaRegistryClient(config.getString(WorkerConfig.REGISTRY_URL_CONFIG)),
                new DockerContainerRunner(io.wharf.worker.docker.DockerClients.fromEnvironment(),
                        Path.of(config.getString(WorkerConfig.WORK_DIR_CONFIG)), config.getLong(WorkerConfig.PULL_TIMEOUT_MS_CONFIG),
                        config.getLong(WorkerConfig.IMAGE_CACHE_BYTES_CONFIG), config.getInt(WorkerConfig.PRESTART_CONFIG),
                        Path.of(config.getString(WorkerConfig.SHIM_PATH_CONFIG))),
                new SimpleMeterRegistry());
    }

    public Worker(WorkerConfig config, SchemaRegistryClient registry, ContainerRunner runner, MeterRegistry meters) {
        this.config = config;
        this.workerId = config.workerId();
        this.topic = Topics.jobs(config.pool());
        this.slots = config.getInt(WorkerConfig.SLOTS_CONFIG);
        this.secrets = config.secrets();
        this.prefetch = config.getInt(WorkerConfig.PREFETCH_CONFIG);
        this.runner = runner;
        this.meters = meters;
        this.registry = registry;
        this.jobs = new AvroDeserializer<>(registry, Job.class);
        this.results = new AvroSerializer<>(registry);
        this.attempts = new AvroSerializer<>(registry);
        this.deadLetters = new AvroSerializer<>(registry);
        String bootstrap = String.join(",", config.getList(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));

        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "wharf-workers-" + config.pool());
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, workerId);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, Math.min(prefetch, 500)));
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, config.getInt(WorkerConfig.SESSION_TIMEOUT_MS_CONFIG));
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(300, config.getInt(WorkerConfig.SESSION_TIMEOUT_MS_CONFIG) / 4));
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_RECORD_BYTES);
        this.consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());

        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, workerId);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "wharf-worker-" + workerId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_RECORD_BYTES);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());

        Properties l = new Properties();
        l.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        l.put(ProducerConfig.CLIENT_ID_CONFIG, workerId + "-logs");
        l.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        l.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        l.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        this.logProducer = new KafkaProducer<>(l, new StringSerializer(), new ByteArraySerializer());
        this.logLines = new AvroSerializer<>(registry);

        this.committer = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("wharf-commit-" + workerId).factory());
        this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("wharf-job-", 0).factory());
        this.loop = Thread.ofPlatform().name("wharf-worker-" + workerId).unstarted(this::runLoop);
        this.cancels = new CancelWatcher(bootstrap, workerId, registry, jobId -> {
            if (runningJobs.contains(jobId)) {
                log.info("Job {} cancelled while running: killing its container", jobId);
                // Kill until the run ends: a cancel that lands between a container's create and start (or before a
                // warm container got the job) finds nothing to kill on the first try.
                Thread.ofVirtual().name("wharf-cancel-" + jobId).start(() -> {
                    while (runningJobs.contains(jobId)) {
                        runner.kill(workerId, jobId);
                        try {
                            Thread.sleep(200);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
            }
        });
    }

    public String workerId() {
        return workerId;
    }

    /** The job partitions this worker owns right now. */
    public java.util.Set<TopicPartition> assignedPartitions() {
        return assigned;
    }

    public synchronized Worker start() {
        if (state != State.CREATED) {
            return this;
        }
        log.info("Worker {} starting on {} with {} slots", workerId, topic, slots);
        state = State.STARTING;
        loop.start();
        return this;
    }

    public State state() {
        return state;
    }

    /** Waits until the worker stopped or failed; true if it did within {@code timeout}. */
    public boolean awaitStop(Duration timeout) {
        if (state == State.CREATED) {
            return false;
        }
        try {
            return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void runLoop() {
        try {
            int stale = runner.removeStale(workerId);
            if (stale > 0) {
                log.info("Worker {} removed {} containers an earlier run of it left behind", workerId, stale);
            }
            cancels.start();
            if (!cancels.awaitCaughtUp(Duration.ofSeconds(30))) {
                log.warn("Worker {} has not read all cancel requests after 30 s; starting anyway", workerId);
            }
            producer.initTransactions();
            consumer.subscribe(List.of(topic), new Rebalance());
            state = State.RUNNING;
            log.info("Worker {} started", workerId);
            while (!stopping) {
                turn(POLL_TIMEOUT);
            }
            state = State.STOPPING;
            drain();
            state = State.STOPPED;
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            state = State.FAILED;
            log.error("Worker {} cannot go on: {}", workerId, e.toString());
        } catch (InterruptedException e) {
            state = State.FAILED;
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            state = State.FAILED;
            log.error("Worker {} failed", workerId, e);
        } finally {
            release();
            log.info("Worker {} {}", workerId, state == State.FAILED ? "failed and stopped" : "stopped");
        }
    }

    /** Abandons what still runs, closes every client and lets waiters go: the end of the loop, or of a worker never started. */
    private void release() {
        cancels.close();
        abandonAll();
        closeQuietly();
        stopped.countDown();
    }

    /** Interrupts the loop's poll, once per turn however many jobs finish meanwhile. */
    private void wakeLoop() {
        if (wakeupPending.compareAndSet(false, true)) {
            consumer.wakeup();
        }
    }

    /** One turn of the loop: poll, start what fits in the slots, publish what finished, pause or resume. */
    private void turn(Duration pollTimeout) {
        ConsumerRecords<String, byte[]> records;
        try {
            records = consumer.poll(completions.isEmpty() ? pollTimeout : Duration.ZERO);
        } catch (WakeupException e) {
            records = ConsumerRecords.empty();
        }
        wakeupPending.set(false);
        for (ConsumerRecord<String, byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            PartitionTracker tracker = trackers.get(tp);
            // While stopping, records are left untaken: their offsets stay uncommitted for the next owner.
            if (tracker != null && !stopping && !registryWaits.containsKey(tp)) {
                if (tracker.finishedEarlier(record.offset())) {
                    tracker.taken(record.offset());
                    log.info("Job at {}@{} was finished by this partition's previous owner: not run again", tp, record.offset());
                } else {
                    take(record, tp, tracker);
                }
            }
        }
        Taken next;
        while (inFlight < slots && !stopping && (next = queue.next()) != null) {
            launch(next);
        }
        publish(false);
        if (stopping || queue.size() >= prefetch) {
            consumer.pause(consumer.assignment());
        } else {
            long now = System.nanoTime();
            registryWaits.values().removeIf(retryAt -> now - retryAt >= 0);
            List<TopicPartition> resumable = consumer.paused().stream().filter(tp -> !registryWaits.containsKey(tp)).toList();
            if (!resumable.isEmpty()) {
                consumer.resume(resumable);
            }
        }
    }

    private void take(ConsumerRecord<String, byte[]> record, TopicPartition tp, PartitionTracker tracker) {
        try {
            registerOutputs();
        } catch (RuntimeException e) {
            if (!SchemaRegistryException.isUnavailable(e)) {
                log.error("The schema registry refused a schema this worker writes; no job is taken until it accepts it", e);
            }
            waitForRegistry(record, tp, e);
            return;
        }
        Taken taken;
        try {
            Job job = jobs.deserialize(record.topic(), record.value());
            String key = null;
            if (job.getFunction().getOrdering() == Ordering.KEY) {
                // Keys are per function: two functions may use the same key without waiting on each other.
                key = job.getFunction().getName() + '\u0000' + (job.getKey() != null ? job.getKey() : record.key());
            }
            taken = new Taken(record, tp, tracker, job, null, key);
        } catch (RuntimeException e) {
            if (SchemaRegistryException.isUnavailable(e)) {
                waitForRegistry(record, tp, e);
                return;
            }
            taken = new Taken(record, tp, tracker, null, "Job could not be decoded: " + e.getMessage(), null);
        }
        tracker.taken(record.offset());
        queue.add(taken, taken.orderingKey());
    }

    /**
     * Registers the schemas of the records this worker writes (cached by the client), before its first job: a job
     * that ran must never find its result held up by the registry.
     */
    private void registerOutputs() {
        if (!outputsRegistered) {
            registry.register(TopicSchemas.valueSubject(Topics.RESULTS), JobResult.getClassSchema());
            registry.register(TopicSchemas.valueSubject(Topics.ATTEMPTS), Attempt.getClassSchema());
            registry.register(TopicSchemas.valueSubject(Topics.LOGS), LogLine.getClassSchema());
            registry.register(TopicSchemas.valueSubject(Topics.DLQ), DeadLetter.getClassSchema());
            outputsRegistered = true;
        }
    }

    /**
     * A job whose schema the registry could not serve (unreachable, or a 5xx), or met before the registry took this
     * worker's own schemas, is sound: it is not dead-lettered. Its partition goes back to that record and pauses for
     * {@link #REGISTRY_RETRY}, so it and the jobs behind it are read again once the registry answers, in order;
     * other partitions go on.
     */
    private void waitForRegistry(ConsumerRecord<String, byte[]> record, TopicPartition tp, RuntimeException e) {
        consumer.seek(tp, record.offset());
        consumer.pause(List.of(tp));
        registryWaits.put(tp, System.nanoTime() + REGISTRY_RETRY.toNanos());
        log.warn("Job at {}@{} waits for the schema registry ({}); retrying in {} ms", tp, record.offset(),
                e.getMessage(), REGISTRY_RETRY.toMillis());
    }

    private void launch(Taken taken) {
        ConsumerRecord<String, byte[]> record = taken.record();
        TopicPartition tp = taken.partition();
        PartitionTracker tracker = taken.tracker();
        String queueKey = taken.orderingKey();
        long dequeuedAt = System.currentTimeMillis();
        inFlight++;
        if (taken.job() == null) {
            String id = record.topic() + "-" + record.partition() + "@" + record.offset();
            completions.add(new Completion(tp, tracker, record.offset(), List.of(deadLetter(record, id, taken.decodeError())), id, null));
            return;
        }
        Job job = taken.job();
        String cancelReason = cancels.reason(job.getJobId());
        if (cancelReason != null) {
            log.info("Job {} was cancelled before it started: skipped", job.getJobId());
            JobResult result = cancelled(job, dequeuedAt, cancelReason, null);
            completions.add(new Completion(tp, tracker, record.offset(), outcome(job, result), job.getJobId(), queueKey));
            return;
        }
        if (job.getDeadline() != null && dequeuedAt > job.getDeadline().toEpochMilli()) {
            // A backlog older than the function allows is not run (a restarted worker would otherwise run stale work).
            long now = System.currentTimeMillis();
            JobResult result = result(job, JobStatus.EXPIRED, "Job " + job.getJobId() + " expired: taken " + (dequeuedAt - job.getEventCreatedAt().toEpochMilli())
                    + " ms after its event, past function '" + job.getFunction().getName() + "''s maxJobAgeMillis of "
                    + job.getFunction().getMaxJobAgeMillis(), timings(job, dequeuedAt, null, now).build(), now).build();
            completions.add(new Completion(tp, tracker, record.offset(), outcome(job, result), job.getJobId(), queueKey));
            return;
        }
        Future<?> future = executor.submit(() -> {
            List<ProducerRecord<String, byte[]>> out = List.of();
            try {
                MDC.put("job", job.getJobId());
                MDC.put("function", job.getFunction().getName());
                out = outcome(job, execute(job, dequeuedAt));
            } catch (InterruptedException e) {
                log.info("Job {} abandoned (its partition moved away or the worker stopped): its container is removed and the "
                        + "partition's next owner runs it again", job.getJobId());
            } catch (RuntimeException e) {
                log.error("Job {} could not be run", job.getJobId(), e);
                out = outcome(job, failure(job, dequeuedAt, "Worker " + workerId + " failed running the job: " + e));
            } finally {
                MDC.clear();
                completions.add(new Completion(tp, tracker, record.offset(), out, job.getJobId(), queueKey));
                wakeLoop();
            }
        });
        running.computeIfAbsent(tp, k -> new ArrayList<>()).add(future);
    }

    /**
     * The function's registry password in clear, opened with this worker's key when {@code wharf deploy} sealed it;
     * null when the function has none.
     *
     * @throws IllegalArgumentException naming the function and what to do, when it is sealed and cannot be opened here
     */
    static String registryPassword(SealedSecrets secrets, FunctionSpec fn) {
        String password = fn.getRegistryAuth() == null ? null : fn.getRegistryAuth().getPassword();
        if (!SealedSecrets.isSealed(password)) {
            return password;
        }
        if (secrets == null) {
            throw new IllegalArgumentException("The registry password of function " + fn.getName() + " is sealed and this worker has no "
                    + WorkerConfig.SECRETS_KEY_CONFIG + ": give workers the key the deployer had in WHARF_SECRETS_KEY");
        }
        try {
            return secrets.open(password, fn.getName());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("The registry password of function " + fn.getName() + " cannot be opened with this worker's "
                    + WorkerConfig.SECRETS_KEY_CONFIG + ": " + e.getMessage() + ". Deploy it again with the workers' key in WHARF_SECRETS_KEY");
        }
    }

    JobResult execute(Job job, long dequeuedAt) throws InterruptedException {
        FunctionSpec fn = job.getFunction();
        Map<String, String> env = new HashMap<>(fn.getEnv());
        env.put("WHARF_JOB_ID", job.getJobId());
        env.put("WHARF_FUNCTION", fn.getName());
        env.put("WHARF_ATTEMPT", String.valueOf(job.getAttempt()));
        Map<String, String> labels = Map.of(
                DockerContainerRunner.LABEL_WORKER, workerId,
                DockerContainerRunner.LABEL_JOB, job.getJobId(),
                DockerContainerRunner.LABEL_FUNCTION, fn.getName(),
                DockerContainerRunner.LABEL_ATTEMPT, String.valueOf(job.getAttempt()));
        String registryPassword;
        try {
            registryPassword = registryPassword(secrets, fn);
        } catch (IllegalArgumentException e) {
            return failure(job, dequeuedAt, e.getMessage());
        }
        byte[] payload = new byte[job.getPayload().remaining()];
        job.getPayload().duplicate().get(payload);
        String image = fn.getImageDigest() != null ? fn.getImageDigest() : fn.getImage();
        RunRequest request = new RunRequest(job.getJobId(), fn.getName(), job.getAttempt(), image, fn.getCommand(), fn.getEntrypoint(),
                env, fn.getMemoryMb(), fn.getCpus(), Duration.ofMillis(fn.getTimeoutMillis()), fn.getNetwork() == NetworkMode.HOST,
                fn.getUser(), payload, labels, config.getInt(WorkerConfig.MAX_BODY_BYTES_CONFIG),
                fn.getRegistryAuth() == null ? null : fn.getRegistryAuth().getUsername(),
                registryPassword,
                fn.getHot() == null ? null : new RunRequest.Hot(Duration.ofMillis(fn.getHot().getIdleTtlMillis()),
                        fn.getHot().getMaxJobsPerContainer(), fn.getHot().getPrewarm(),
                        fn.getMaxConcurrency() != null ? Math.min(fn.getMaxConcurrency(), slots) : slots));
        LogShipper logs = new LogShipper(job.getJobId(), fn.getName(), job.getAttempt(), config.getLong(WorkerConfig.MAX_LOG_BYTES_CONFIG),
                logProducer, logLines);
        RunOutcome outcome;
        runningJobs.add(job.getJobId());
        try {
            String cancelledEarly = cancels.reason(job.getJobId());
            if (cancelledEarly != null) {
                return cancelled(job, dequeuedAt, cancelledEarly, null);
            }
            outcome = runner.run(request, logs);
        } finally {
            runningJobs.remove(job.getJobId());
        }
        logs.onEnd();
        String cancelReason = cancels.reason(job.getJobId());
        if (cancelReason != null) {
            logs.system("[wharf] CANCELLED: " + cancelReason);
            return cancelled(job, dequeuedAt, cancelReason, outcome);
        }

        JobStatus status;
        String error = null;
        if (outcome.error() != null) {
            status = JobStatus.FAILED;
            error = outcome.error();
        } else if (outcome.timedOut()) {
            status = JobStatus.TIMED_OUT;
            error = "Killed after its timeout of " + fn.getTimeoutMillis() + " ms";
        } else if (outcome.oomKilled()) {
            status = JobStatus.OOM_KILLED;
            error = "Killed for exceeding its memory limit of " + fn.getMemoryMb() + " MiB (exit code " + outcome.exitCode() + ")";
        } else if (outcome.exitCode() != null && outcome.exitCode() == 0) {
            status = JobStatus.SUCCEEDED;
        } else {
            status = JobStatus.FAILED;
            error = "Exited with code " + outcome.exitCode();
        }
        if (error != null) {
            logs.system("[wharf] " + status + ": " + error);
        }
        long now = System.currentTimeMillis();
        Timings timings = timings(job, dequeuedAt, outcome, now).setPulledAt(nonZero(outcome.pulledAt())).build();
        if (outcome.startedAt() > 0 && outcome.exitedAt() > 0) {
            Timer.builder("wharf.container.lifetime").tag("function", fn.getName()).register(meters)
                    .record(outcome.exitedAt() - outcome.startedAt(), TimeUnit.MILLISECONDS);
        }
        meters.counter("wharf.jobs.completed", "function", fn.getName(), "status", status.name()).increment();
        log.info("Job {} of {} {} in {} ms", job.getJobId(), fn.getName(), status, now - dequeuedAt);
        return result(job, status, error, timings, now)
                .setExitCode(outcome.exitCode())
                .setBody(ByteBuffer.wrap(outcome.stdout()))
                .setBodyTruncated(outcome.stdoutTruncated())
                .setStderrTail(status == JobStatus.SUCCEEDED || outcome.stderrTail() == null || outcome.stderrTail().isEmpty() ? null : outcome.stderrTail())
                .setImageDigest(outcome.imageId())
                .build();
    }

    /**
     * The records an attempt's outcome becomes, committed with the job's offset: the final result on
     * {@code wharf.results} when no retry can follow, and an attempt report on {@code wharf.attempts} (keyed by
     * function) when the dispatcher asked for one (concurrency counts, fan-out, chains). A failure the function's
     * retry policy might retry gets no result here: it is reported, and the dispatcher, which owns the backoff
     * and the attempt count, retries it or writes the final result.
     */
    List<ProducerRecord<String, byte[]>> outcome(Job job, JobResult result) {
        FunctionSpec fn = job.getFunction();
        JobStatus status = result.getStatus();
        result.setParentId(job.getParentId());
        boolean retriable = fn.getRetry() != null && fn.getRetry().getMaxAttempts() > 1
                && status != JobStatus.SUCCEEDED && status != JobStatus.CANCELLED && status != JobStatus.EXPIRED;
        if (retriable) {
            Attempt attempt = Attempt.newBuilder().setOutcome(result).setFinished(false).setJob(job)
                    .setTraceContext(job.getTraceContext()).build();
            return List.of(new ProducerRecord<>(Topics.ATTEMPTS, fn.getName(), attempts.serialize(Topics.ATTEMPTS, attempt)));
        }
        if (!job.getHistory().isEmpty()) {
            List<AttemptSummary> history = new ArrayList<>(job.getHistory());
            history.add(AttemptRecords.summary(result));
            result.setHistory(history);
        }
        ProducerRecord<String, byte[]> last = new ProducerRecord<>(Topics.RESULTS, job.getJobId(), results.serialize(Topics.RESULTS, result));
        if (!job.getReportAttempt()) {
            return List.of(last);
        }
        // The dispatcher needs the body only for onSuccess chains and stderr only for onFailure ones.
        result.setBody(status == JobStatus.SUCCEEDED && !fn.getOnSuccess().isEmpty() ? result.getBody() : ByteBuffer.allocate(0));
        result.setStderrTail(fn.getOnFailure().isEmpty() ? null : result.getStderrTail());
        Attempt attempt = Attempt.newBuilder().setOutcome(result).setFinished(true).setTraceContext(job.getTraceContext()).build();
        return List.of(last, new ProducerRecord<>(Topics.ATTEMPTS, fn.getName(), attempts.serialize(Topics.ATTEMPTS, attempt)));
    }

    /** What every result of this worker carries: the job's identity, its status, and when it completed. */
    private JobResult.Builder result(Job job, JobStatus status, String error, Timings timings, long now) {
        return JobResult.newBuilder()
                .setJobId(job.getJobId())
                .setFunction(job.getFunction().getName())
                .setAttempt(job.getAttempt())
                .setStatus(status)
                .setError(error)
                .setWorkerId(workerId)
                .setTimings(timings)
                .setCompletedAt(Instant.ofEpochMilli(now));
    }

    /** The job's timings so far, with the container's lifetime when it ran. */
    private static Timings.Builder timings(Job job, long dequeuedAt, RunOutcome outcome, long now) {
        Timings.Builder timings = Timings.newBuilder().setEventCreatedAt(job.getEventCreatedAt().toEpochMilli())
                .setEnqueuedAt(job.getEnqueuedAt().toEpochMilli()).setDequeuedAt(dequeuedAt).setFinishedAt(now);
        if (outcome != null) {
            timings.setCreatedAt(nonZero(outcome.createdAt())).setStartedAt(nonZero(outcome.startedAt()))
                    .setExitedAt(nonZero(outcome.exitedAt())).setRemovedAt(nonZero(outcome.removedAt()));
        }
        return timings;
    }

    private JobResult cancelled(Job job, long dequeuedAt, String reason, RunOutcome outcome) {
        long now = System.currentTimeMillis();
        meters.counter("wharf.jobs.completed", "function", job.getFunction().getName(), "status", JobStatus.CANCELLED.name()).increment();
        return result(job, JobStatus.CANCELLED, "Cancelled: " + reason, timings(job, dequeuedAt, outcome, now).build(), now)
                .setExitCode(outcome == null ? null : outcome.exitCode())
                .build();
    }

    private JobResult failure(Job job, long dequeuedAt, String error) {
        long now = System.currentTimeMillis();
        return result(job, JobStatus.FAILED, error, Timings.newBuilder().setDequeuedAt(dequeuedAt).setFinishedAt(now).build(), now).build();
    }

    private ProducerRecord<String, byte[]> deadLetter(ConsumerRecord<String, byte[]> record, String id, String reason) {
        log.warn("Job record {} sent to {}: {}", id, Topics.DLQ, reason);
        DeadLetter letter = DeadLetterRecords.of(id, null, JobStatus.REJECTED, reason, record.topic(), record.partition(), record.offset(),
                record.key(), record.value(), System.currentTimeMillis());
        return new ProducerRecord<>(Topics.DLQ, id, deadLetters.serialize(Topics.DLQ, letter));
    }

    /**
     * Hands finished results, and the offsets they free, to the committer thread as one transaction. While a
     * transaction is in flight the loop goes on polling and starting jobs, and finished results gather for the
     * next one: a commit's latency bounds how often results become visible, not how many jobs run. With
     * {@code sync} (rebalance, shutdown) it waits until everything finished so far is committed. Completions of
     * partitions this worker no longer owns are dropped: their jobs belong to the new owner now.
     */
    private void publish(boolean sync) {
        List<Completion> done = new ArrayList<>();
        completions.drainTo(done);
        for (Completion completion : done) {
            inFlight--;
            queue.finished(completion.orderingKey());
            if (trackers.get(completion.partition()) == completion.tracker()) {
                completion.tracker().done(completion.offset());
                uncommitted.add(completion);
            }
        }
        running.values().forEach(list -> list.removeIf(Future::isDone));
        collectCommit(false);
        if (commitInFlight != null) {
            if (!sync) {
                return;
            }
            collectCommit(true);
        }
        uncommitted.removeIf(c -> trackers.get(c.partition()) != c.tracker());
        if (uncommitted.isEmpty()) {
            return;
        }
        long interval = config.getInt(WorkerConfig.COMMIT_INTERVAL_MS_CONFIG) * 1_000_000L;
        if (!sync && interval > 0 && System.nanoTime() - lastCommitNanos < interval) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, PartitionTracker> committedTrackers = new HashMap<>();
        Map<TopicPartition, java.util.Set<Long>> listed = new HashMap<>();
        trackers.forEach((tp, tracker) -> {
            long position = tracker.committable();
            List<Long> finishedAbove = tracker.encodable();
            String metadata = tracker.metadata(finishedAbove);
            if (position >= 0 && !tracker.isCommitted(position, metadata)) {
                listed.put(tp, new java.util.HashSet<>(finishedAbove));
                offsets.put(tp, new OffsetAndMetadata(position, metadata));
                committedTrackers.put(tp, tracker);
            }
        });
        // A result goes out only with a commit that covers its offset, below the committed position or listed in
        // its metadata: a new owner then knows the job is done. The rest waits for a later commit.
        List<Completion> batch = new ArrayList<>();
        for (java.util.Iterator<Completion> it = uncommitted.iterator(); it.hasNext(); ) {
            Completion c = it.next();
            if (c.offset() < c.tracker().committable() || listed.getOrDefault(c.partition(), java.util.Set.of()).contains(c.offset())) {
                batch.add(c);
                it.remove();
            }
        }
        if (batch.isEmpty() && offsets.isEmpty()) {
            return;
        }
        var groupMetadata = consumer.groupMetadata();
        lastCommitNanos = System.nanoTime();
        commitInFlight = committer.submit(() -> commit(batch, offsets, groupMetadata, committedTrackers));
        if (sync) {
            collectCommit(true);
        }
    }

    /** What the committer thread did with one batch. */
    private record CommitResult(List<Completion> batch, Map<TopicPartition, OffsetAndMetadata> offsets,
                                Map<TopicPartition, PartitionTracker> trackers, RuntimeException error) {
    }

    /** Runs on the committer thread: the only user of the producer while a commit is in flight. */
    private CommitResult commit(List<Completion> batch, Map<TopicPartition, OffsetAndMetadata> offsets,
                                org.apache.kafka.clients.consumer.ConsumerGroupMetadata groupMetadata,
                                Map<TopicPartition, PartitionTracker> committedTrackers) {
        try {
            producer.beginTransaction();
            for (Completion completion : batch) {
                completion.records().forEach(producer::send);
            }
            if (!offsets.isEmpty()) {
                producer.sendOffsetsToTransaction(offsets, groupMetadata);
            }
            producer.commitTransaction();
            return new CommitResult(batch, offsets, committedTrackers, null);
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            return new CommitResult(batch, offsets, committedTrackers, e);
        } catch (KafkaException e) {
            try {
                producer.abortTransaction();
            } catch (KafkaException abortFailed) {
                return new CommitResult(batch, offsets, committedTrackers, abortFailed);
            }
            return new CommitResult(batch, offsets, committedTrackers, new RetriableCommitException(e));
        } finally {
            wakeLoop(); // the loop may have more to commit now
        }
    }

    /** An aborted transaction whose results are tried again in the next one. */
    private static final class RetriableCommitException extends RuntimeException {
        RetriableCommitException(KafkaException cause) {
            super(cause);
        }
    }

    /** Applies the outcome of the in-flight commit, if it is done (or, with {@code wait}, once it is). */
    private void collectCommit(boolean wait) {
        if (commitInFlight == null || (!wait && !commitInFlight.isDone())) {
            return;
        }
        CommitResult result;
        try {
            result = commitInFlight.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while committing results", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("Commit failed", e.getCause());
        } finally {
            commitInFlight = null;
        }
        if (result.error() == null) {
            result.offsets().forEach((tp, offset) -> result.trackers().get(tp).committed(offset.offset(), offset.metadata()));
            return;
        }
        if (!(result.error() instanceof RetriableCommitException retry)) {
            throw result.error();
        }
        log.warn("Worker {} could not commit {} results, will retry: {}", workerId, result.batch().size(), retry.getCause().toString());
        // Back in line for the next transaction, unless their partition moved meanwhile.
        result.batch().forEach(c -> {
            if (trackers.get(c.partition()) == c.tracker()) {
                uncommitted.add(c);
            }
        });
    }

    /** Stops taking jobs, lets running ones finish up to the drain timeout, and publishes their results. */
    private void drain() {
        queue.clear();
        long deadline = System.nanoTime() + config.getLong(WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG) * 1_000_000L;
        if (inFlight > 0) {
            log.info("Worker {} draining {} running jobs", workerId, inFlight);
        }
        consumer.pause(consumer.assignment());
        while (inFlight > 0 && System.nanoTime() < deadline) {
            turn(Duration.ofMillis(100));
        }
        if (inFlight > 0) {
            log.warn("Worker {}: the drain timeout ({} ms) passed with {} jobs running; their containers are killed, their offsets stay "
                    + "uncommitted and the partitions' next owner runs them again: {}", workerId,
                    config.getLong(WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG), inFlight, List.copyOf(runningJobs));
        }
        publish(true);
    }

    private void abandonAll() {
        running.values().forEach(list -> list.forEach(f -> f.cancel(true)));
        executor.shutdownNow();
        try {
            executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeQuietly() {
        committer.shutdown();
        try {
            committer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            consumer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.debug("Consumer close failed", e);
        }
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.debug("Producer close failed", e);
        }
        try {
            logProducer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.debug("Log producer close failed", e);
        }
        runner.close();
    }

    /**
     * Stops the worker: running jobs finish (up to the drain timeout) and their results are committed. Waits at most
     * the drain timeout plus a minute. Idempotent; a worker that never started just closes its clients.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (state == State.CREATED) {
                state = State.STOPPED;
                release();
                return;
            }
        }
        stopping = true;
        consumer.wakeup();
        Duration bound = Duration.ofMillis(config.getLong(WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG)).plus(CLOSE_MARGIN);
        if (!awaitStop(bound)) {
            log.warn("Worker {} did not stop within {} ms; its uncommitted jobs run again on the partitions' next owner", workerId, bound.toMillis());
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> committedOffsets = consumer.committed(new java.util.HashSet<>(partitions));
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committedOffsets.get(tp);
                trackers.put(tp, c == null ? new PartitionTracker() : PartitionTracker.skipping(c.offset(), c.metadata()));
            }
            assigned = java.util.Set.copyOf(trackers.keySet());
            if (!partitions.isEmpty()) {
                log.info("Worker {} assigned {}", workerId, partitions);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            publish(true);
            forget(partitions, "revoked");
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions, "lost");
        }

        private void forget(Collection<TopicPartition> partitions, String how) {
            log.info("Worker {} {} {}", workerId, how, partitions);
            for (TopicPartition tp : partitions) {
                trackers.remove(tp);
                registryWaits.remove(tp);
                assigned = java.util.Set.copyOf(trackers.keySet());
                queue.removeIf(t -> t.partition().equals(tp));
                List<Future<?>> futures = running.remove(tp);
                if (futures != null) {
                    futures.forEach(f -> f.cancel(true));
                }
            }
        }
    }

    private static Long nonZero(long millis) {
        return millis == 0 ? null : millis;
    }
}
