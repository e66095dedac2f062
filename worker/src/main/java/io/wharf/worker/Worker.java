package io.wharf.worker;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.wharf.ops.JobLogs;
import io.wharf.ops.Role;
import io.wharf.ops.Telemetry;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.LogLine;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.Topics;
import io.wharf.worker.internals.BrokerWatch;
import io.wharf.worker.internals.ControlWatcher;
import io.wharf.worker.internals.Completion;
import io.wharf.worker.internals.JobExecution;
import io.wharf.worker.internals.JobQueue;
import io.wharf.worker.internals.JobTask;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.worker.internals.LogShipper;
import io.wharf.worker.internals.PartitionHolds;
import io.wharf.worker.internals.PartitionTracker;
import io.wharf.worker.internals.ResultCommitter;
import io.wharf.worker.internals.ResultRecords;
import io.wharf.worker.internals.Taken;
import io.wharf.worker.runtime.ContainerRunner;
import io.wharf.worker.runtime.WorkerMeters;

/**
 * A worker of one pool: consumes {@code wharf.jobs.<pool>}, runs each job in a container, and publishes its
 * result to {@code wharf.results}.
 *
 * <p>Container output is streamed line by line to {@code wharf.logs} while the job runs (capped per attempt,
 * with a marker saying what was dropped); the result body keeps the first {@code max.body.bytes} of stdout.
 *
 * <p>This class is the loop and the lifecycle: one thread owns the consumer, takes jobs within the slots and the
 * prefetch window, and pauses or resumes partitions. Jobs run on virtual threads ({@link JobExecution}), become
 * records ({@link ResultRecords}) and come back through a queue; the {@link ResultCommitter} commits them with
 * the offsets they free in one transaction. A worker that dies mid-job leaves the job uncommitted, so another
 * worker runs it again.
 */
public final class Worker implements Role {
    /** How long close() waits beyond the drain timeout for the results to be committed and the clients closed. */
    private static final Duration CLOSE_MARGIN = Duration.ofSeconds(60);
    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);

    private final WorkerConfig config;
    private final String workerId;
    private final String topic;
    private final int slots;
    private final int prefetch;
    private final long maxUncommittedBytes;
    private final ContainerRunner runner;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    /** Logs are streamed outside the result transactions: they must flow while a job runs. */
    private final KafkaProducer<String, byte[]> logProducer;
    private final AvroDeserializer<Job> jobs;
    private final ResultRecords records;
    private final JobExecution execution;
    private final ResultCommitter committer;
    private final ControlWatcher cancels;
    private final ExecutorService executor;
    private final BlockingQueue<Completion> completions = new LinkedBlockingQueue<>();
    private final Map<TopicPartition, PartitionTracker> trackers = new HashMap<>();
    private final Map<TopicPartition, List<JobTask>> running = new HashMap<>();
    private final JobQueue<Taken> queue = new JobQueue<>();
    private final PartitionHolds holds = new PartitionHolds();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final Thread loop;
    private BrokerWatch brokers;
    private volatile boolean stopping;
    private volatile RuntimeException runtimeLost;
    private volatile State state = State.CREATED;
    private volatile Set<TopicPartition> assigned = Set.of();
    /** Whether the group gave this worker its share at least once (which may be no partition, in a group larger than the topic). */
    private volatile boolean joined;
    private final WorkerMeters meters;
    private final List<KafkaClientMetrics> clientMetrics;
    private long lagReadAt;
    private int inFlight;
    /** Whether taken jobs wait in the queue at the end of the loop's turn: a finished job's slot is wanted at once. */
    private volatile boolean jobsWaiting;

    public Worker(Map<String, ?> settings) {
        this(settings, Telemetry.none());
    }

    /** A worker recording its meters (see {@link WorkerMeters}) and spans in {@code telemetry}. */
    public Worker(Map<String, ?> settings, Telemetry telemetry) {
        this(new WorkerConfig(settings), telemetry);
    }

    /** A worker running jobs on the local Docker engine ({@code DOCKER_HOST}, else the local socket). */
    public Worker(WorkerConfig config, Telemetry telemetry) {
        this(config, new HttpSchemaRegistryClient(config.registry()), DockerEngine.runner(config, new WorkerMeters(telemetry.meters())), telemetry);
    }

    /** A worker running jobs on {@code runner}, which must have been made for this worker's id (it labels and cleans up by it). */
    public Worker(WorkerConfig config, SchemaRegistryClient registry, ContainerRunner runner, Telemetry telemetry) {
        MeterRegistry meters = telemetry.meters();
        this.config = config;
        this.workerId = config.workerId();
        this.topic = Topics.jobs(config.pool());
        this.slots = config.getInt(WorkerConfig.SLOTS_CONFIG);
        this.prefetch = config.getInt(WorkerConfig.PREFETCH_CONFIG);
        this.maxUncommittedBytes = config.getLong(WorkerConfig.MAX_UNCOMMITTED_BYTES_CONFIG);
        this.runner = runner;
        this.jobs = new AvroDeserializer<>(registry, Job.class);
        this.meters = new WorkerMeters(meters);
        this.records = new ResultRecords(registry, this.meters);
        this.consumer = new KafkaConsumer<>(config.jobConsumerProperties(), new StringDeserializer(), new ByteArrayDeserializer());
        this.producer = new KafkaProducer<>(config.resultProducerProperties(), new StringSerializer(), new ByteArraySerializer());
        this.logProducer = new KafkaProducer<>(config.logProducerProperties(), new StringSerializer(), new ByteArraySerializer());
        AvroSerializer<LogLine> logLines = new AvroSerializer<>(registry);
        long maxLogBytes = config.getLong(WorkerConfig.MAX_LOG_BYTES_CONFIG);
        this.cancels = new ControlWatcher(config.controlConsumerProperties(), workerId, config.pool(), registry, this::cancelled);
        this.execution = new JobExecution(new JobExecution.Settings(workerId, config.getInt(WorkerConfig.MAX_BODY_BYTES_CONFIG), slots,
                config.secrets(), config.getInt(WorkerConfig.MAX_CRASHES_CONFIG), cancels::policy), runner, cancels, job -> {
                    LogShipper shipper = new LogShipper(job.getJobId(), job.getFunction().getName(), job.getAttempt(), maxLogBytes, logProducer, logLines);
                    return job.getHeaders().containsKey(PayloadEnvelope.REPLY_KEY_HEADER) ? shipper.withholdStdout() : shipper;
                },
                // Through the log producer: not transactional, as a running job has no outcome yet.
                state -> logProducer.send(records.status(state)), this.meters, telemetry.tracer("worker"), Clock.systemUTC());
        this.clientMetrics = List.of(new KafkaClientMetrics(consumer), new KafkaClientMetrics(producer));
        clientMetrics.forEach(m -> m.bindTo(meters));
        this.committer = new ResultCommitter(workerId, producer, config.getInt(WorkerConfig.COMMIT_INTERVAL_MS_CONFIG) * 1_000_000L,
                config.getInt(WorkerConfig.COMMIT_LINGER_MS_CONFIG) * 1_000_000L, System::nanoTime, this::wakeLoop);
        this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("wharf-job-", 0).factory());
        this.loop = Thread.ofPlatform().name("wharf-worker-" + workerId).unstarted(this::runLoop);
    }

    /** Each assigned partition's lag as the consumer knows it (no request: from its last fetch), once a second. */
    private void readLag() {
        long now = System.nanoTime();
        if (now - lagReadAt < 1_000_000_000L) {
            return;
        }
        lagReadAt = now;
        for (TopicPartition tp : trackers.keySet()) {
            consumer.currentLag(tp).ifPresent(lag -> meters.lag(config.pool(), tp.partition(), lag));
        }
    }

    /** Running, heard from a broker lately, given its share of the pool's partitions, and its container engine answering. */
    @Override
    public List<Check> readiness() {
        State now = state;
        BrokerWatch watch = brokers;
        long silent = watch == null ? -1 : watch.silentMillis();
        boolean engine = runner.answers();
        return List.of(new Check("running", now == State.RUNNING, "the worker is " + now),
                new Check("broker", watch != null && silent < BROKER_READY_WITHIN_MS, watch == null ? "not connected yet"
                        : "a broker answered " + silent + " ms ago"),
                new Check("assignment", joined, joined ? "partitions " + assigned.stream().map(TopicPartition::partition).sorted().toList()
                        + " of " + topic : "not yet given its share of " + topic),
                new Check("container engine", engine, engine ? "answers" : "does not answer"));
    }

    /** A broker silent longer than this makes the worker not ready (it fails after wharf.worker.broker.timeout.ms). */
    private static final long BROKER_READY_WITHIN_MS = 10_000;

    private void cancelled(String jobId) {
        execution.cancel(jobId);
    }

    public String workerId() {
        return workerId;
    }

    /** The job partitions this worker owns right now. */
    public Set<TopicPartition> assignedPartitions() {
        return assigned;
    }

    @Override
    public synchronized Worker start() {
        if (state != State.CREATED) {
            return this;
        }
        log.info("Worker {} starting on {} with {} slots", workerId, topic, slots);
        state = State.STARTING;
        loop.start();
        return this;
    }

    @Override
    public State state() {
        return state;
    }

    /** Waits until the worker stopped or failed; true if it did within {@code timeout}. */
    @Override
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
            int stale = runner.removeStale();
            if (stale > 0) {
                log.info("Worker {} removed {} containers an earlier run of it left behind", workerId, stale);
            }
            records.readLimits(config.adminProperties());
            cancels.start();
            if (!cancels.awaitCaughtUp(Duration.ofSeconds(30))) {
                log.warn("Worker {} has not read all cancel requests and its pool's policy after 30 s; starting anyway", workerId);
            }
            long brokerTimeout = config.getLong(WorkerConfig.BROKER_TIMEOUT_MS_CONFIG);
            BrokerWatch.untilAnswered("the start of transactions", brokerTimeout, () -> {
                producer.initTransactions();
                return null;
            });
            // Its short max.block.ms needs the metadata of wharf.logs at hand before the first line.
            BrokerWatch.untilAnswered("a metadata request", brokerTimeout, () -> logProducer.partitionsFor(Topics.LOGS));
            consumer.subscribe(List.of(topic), new Rebalance());
            brokers = new BrokerWatch(consumer::metrics, brokerTimeout, System::nanoTime);
            state = State.RUNNING;
            log.info("Worker {} started", workerId);
            while (!stopping) {
                turn(POLL_TIMEOUT);
            }
            state = State.STOPPING;
            drain();
            state = State.STOPPED;
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException | BrokerWatch.BrokerLostException e) {
            state = State.FAILED;
            log.error("Worker {} cannot go on: {}{}", workerId, e.toString(), e instanceof ProducerFencedException
                    ? " (another worker runs with the same wharf.worker.id; give each worker of a host its own)" : "");
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
        running.values().forEach(list -> list.forEach(JobTask::abandon));
        executor.shutdownNow();
        quietly("job threads' end", () -> executor.awaitTermination(30, TimeUnit.SECONDS));
        committer.close();
        quietly("consumer close", () -> consumer.close(Duration.ofSeconds(5)));
        quietly("producer close", () -> producer.close(Duration.ofSeconds(5)));
        quietly("log producer close", () -> logProducer.close(Duration.ofSeconds(5)));
        clientMetrics.forEach(KafkaClientMetrics::close);
        // What an abandoned job, or a crash of an earlier run of this worker, may have left.
        quietly("removal of leftover containers", runner::removeStale);
        runner.close();
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
            records = consumer.poll(completions.isEmpty() ? committer.pollBound(trackers, pollTimeout) : Duration.ZERO);
        } catch (WakeupException e) {
            records = ConsumerRecords.empty();
        }
        wakeupPending.set(false);
        brokers.check();
        readLag();
        if (runtimeLost != null) {
            throw runtimeLost; // the worker fails, so that its supervisor restarts it once the engine is back
        }
        for (ConsumerRecord<String, byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            PartitionTracker tracker = trackers.get(tp);
            // While stopping, records are left untaken: their offsets stay uncommitted for the next owner.
            if (tracker != null && !stopping && !holds.held(tp)) {
                if (tracker.finishedEarlier(record.offset())) {
                    tracker.taken(record.offset());
                    log.info("Job at {}@{} was finished by this partition's previous owner: not run again", tp, record.offset());
                } else if (!tracker.hasRoomFor(record.offset())) {
                    holds.untilRoom(consumer, record);
                } else {
                    take(record, tp, tracker);
                }
            }
        }
        Taken next;
        // Past the bound on results waiting to commit, no job starts until commits catch up.
        while (inFlight < slots && !stopping && committer.waitingBytes() < maxUncommittedBytes && (next = queue.next()) != null) {
            launch(next);
        }
        jobsWaiting = queue.size() > 0;
        publish(false);
        if (stopping || queue.size() >= prefetch) {
            consumer.pause(consumer.assignment());
        } else {
            holds.release(System.nanoTime(), trackers);
            List<TopicPartition> resumable = consumer.paused().stream().filter(tp -> !holds.held(tp)).toList();
            if (!resumable.isEmpty()) {
                consumer.resume(resumable);
            }
        }
    }

    private void take(ConsumerRecord<String, byte[]> record, TopicPartition tp, PartitionTracker tracker) {
        try {
            records.registerSchemas();
        } catch (RuntimeException e) {
            if (!SchemaRegistryException.isUnavailable(e)) {
                log.error("The schema registry refused a schema this worker writes; no job is taken until it accepts it", e);
            }
            holds.untilRegistry(consumer, record, e);
            return;
        }
        Taken taken;
        try {
            taken = Taken.decode(record, tp, tracker, jobs);
        } catch (RuntimeException e) {
            holds.untilRegistry(consumer, record, e);
            return;
        }
        tracker.taken(record.offset());
        queue.add(taken, taken.orderingKey());
    }

    private void launch(Taken taken) {
        ConsumerRecord<String, byte[]> record = taken.record();
        long dequeuedAt = execution.now();
        inFlight++;
        if (taken.job() == null) {
            String id = record.topic() + "-" + record.partition() + "@" + record.offset();
            complete(taken, List.of(records.deadLetter(record, id, taken.decodeError(), dequeuedAt)), id);
            return;
        }
        Job job = taken.job();
        JobResult notRun = execution.beforeRun(job, dequeuedAt);
        if (notRun != null) {
            complete(taken, records.of(job, notRun), job.getJobId());
            return;
        }
        JobResult poisoned = execution.crashedTooOften(job, dequeuedAt, taken.tracker().crashes(record.offset()));
        if (poisoned != null) {
            complete(taken, records.poisoned(record, job, poisoned), job.getJobId());
            return;
        }
        taken.tracker().started(record.offset(), System.nanoTime());
        JobTask task = new JobTask(() -> {
            // Everything logged on the job's thread (its run, its container, its records) names the job.
            try (JobLogs.Scope logs = JobLogs.of(job.getJobId(), job.getFunction().getName(), job.getTenant())) {
                runTaken(taken, job, dequeuedAt);
            }
        });
        executor.execute(task);
        running.computeIfAbsent(taken.partition(), k -> new ArrayList<>()).add(task);
    }

    /** Runs a started job on its own thread and hands its records to the loop (none when it is to run elsewhere). */
    private void runTaken(Taken taken, Job job, long dequeuedAt) {
        List<ProducerRecord<String, byte[]>> out = List.of();
        try {
            out = records.of(job, execution.run(job, dequeuedAt));
        } catch (InterruptedException e) {
            log.info("Job {} abandoned (its partition moved away or the worker stopped): its container is removed and the "
                    + "partition's next owner runs it again", job.getJobId());
        } catch (ContainerRunner.RuntimeUnavailableException e) {
            runtimeLost = e; // not the job's fault: it stays uncommitted and runs again elsewhere, as the same attempt
            out = null;
        } catch (RuntimeException e) {
            log.error("Job {} could not be run", job.getJobId(), e);
            out = records.of(job, execution.failure(job, dequeuedAt, "Worker " + workerId + " failed running the job: " + e));
        } finally {
            if (out != null) {
                complete(taken, out, job.getJobId());
            }
            // A transaction in flight wakes the loop when it ends, and that turn hands this job's records on too: a wake
            // now would cost a poll for nothing (one per job under load), unless a queued job wants the slot this frees.
            if (out == null || jobsWaiting || !committer.transactionRunning()) {
                wakeLoop();
            }
        }
    }

    private void complete(Taken taken, List<ProducerRecord<String, byte[]>> out, String jobId) {
        completions.add(new Completion(taken.partition(), taken.tracker(), taken.record().offset(), out, jobId, taken.orderingKey()));
    }

    /**
     * Hands finished jobs, and the offsets they free, to the committer (see {@link ResultCommitter}); with {@code sync}
     * (rebalance, shutdown) waits until everything finished so far is committed. Completions of partitions this worker
     * no longer owns are dropped: their jobs belong to the new owner now.
     */
    private void publish(boolean sync) {
        List<Completion> done = new ArrayList<>();
        completions.drainTo(done);
        for (Completion completion : done) {
            inFlight--;
            queue.finished(completion.orderingKey());
            if (trackers.get(completion.partition()) == completion.tracker()) {
                completion.tracker().done(completion.offset());
                committer.finished(completion);
            }
        }
        running.values().forEach(list -> list.removeIf(JobTask::done));
        committer.publish(trackers, consumer::groupMetadata, sync);
    }

    /** Stops taking jobs, lets running ones finish up to the drain timeout, and publishes their results. */
    private void drain() {
        queue.clear();
        long deadline = System.nanoTime() + config.getLong(WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG) * 1_000_000L;
        log.info("Worker {} draining {} running jobs", workerId, inFlight);
        consumer.pause(consumer.assignment());
        while (inFlight > 0 && System.nanoTime() < deadline) {
            turn(Duration.ofMillis(100));
        }
        if (inFlight > 0) {
            log.warn("Worker {}: the drain timeout ({} ms) passed with {} jobs running; their containers are killed, their offsets stay "
                    + "uncommitted and the partitions' next owner runs them again: {}", workerId,
                    config.getLong(WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG), inFlight, execution.running());
        }
        trackers.values().forEach(PartitionTracker::stopping); // what still runs is stopped by us, not a crash
        publish(true);
    }

    /** A step of the worker's end, which must not keep the steps after it from running. */
    private interface EndStep {
        void run() throws Exception;
    }

    private static void quietly(String what, EndStep step) {
        try {
            step.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("{} failed", what, e);
        }
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
            joined = true;
            if (partitions.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> committedOffsets = BrokerWatch.untilAnswered("a read of committed offsets",
                    config.getLong(WorkerConfig.BROKER_TIMEOUT_MS_CONFIG), () -> consumer.committed(new HashSet<>(partitions)));
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committedOffsets.get(tp);
                trackers.put(tp, c == null ? new PartitionTracker() : PartitionTracker.skipping(c.offset(), c.metadata()));
            }
            assigned = Set.copyOf(trackers.keySet());
            log.info("Worker {} assigned {}", workerId, partitions);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            // Their running jobs are abandoned by us, not crashed. Once the loop ended (closing the consumer) all is published.
            partitions.stream().map(trackers::get).filter(Objects::nonNull).forEach(PartitionTracker::stopping);
            if (!state.ended()) {
                publish(true);
            }
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
                holds.forget(tp);
                meters.lagGone(config.pool(), tp.partition());
                assigned = Set.copyOf(trackers.keySet());
                queue.removeIf(t -> t.partition().equals(tp));
                List<JobTask> tasks = running.remove(tp);
                if (tasks != null) {
                    tasks.forEach(JobTask::abandon);
                }
            }
        }
    }
}
