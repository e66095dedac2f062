package io.wharf.worker.internals;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.Supplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.Attempt;
import io.wharf.records.DeadLetter;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;
import io.wharf.records.LogLine;
import io.wharf.rules.JobStates;
import io.wharf.rules.Results;
import io.wharf.rules.Retries;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.TopicSchemas;
import io.wharf.topics.Topics;
import io.wharf.worker.runtime.WorkerMeters;

/**
 * Which records an attempt's outcome becomes, committed with the job's offset: the final result on
 * {@code wharf.results} when no retry can follow, and an attempt report on {@code wharf.attempts} (keyed by
 * function) when the dispatcher asked for one (concurrency counts, fan-out, chains). An outcome the function's
 * retry policy could retry gets no result here: it is reported, and the dispatcher, which owns the backoff and
 * the attempt count, retries it or writes the final result.
 */
public final class ResultRecords {
    private static final Logger log = LoggerFactory.getLogger(ResultRecords.class);

    private final SchemaRegistryClient registry;
    private final AvroSerializer<JobResult> results;
    private final AvroSerializer<Attempt> attempts;
    private final AvroSerializer<DeadLetter> deadLetters;
    private final AvroSerializer<JobState> states;
    private volatile boolean registered;
    private volatile TopicLimits limits = TopicLimits.kafkaDefaults();
    private final WorkerMeters meters;

    public ResultRecords(SchemaRegistryClient registry, WorkerMeters meters) {
        this.registry = registry;
        this.meters = meters;
        this.results = new AvroSerializer<>(registry);
        this.attempts = new AvroSerializer<>(registry);
        this.deadLetters = new AvroSerializer<>(registry);
        this.states = new AvroSerializer<>(registry);
    }

    /**
     * Registers the schemas of everything a worker writes (cached by the client), before its first job: a job
     * that ran must never find its result held up by the registry. Throws while the registry refuses or is away.
     */
    public void registerSchemas() {
        if (!registered) {
            registry.register(TopicSchemas.valueSubject(Topics.RESULTS), JobResult.getClassSchema());
            registry.register(TopicSchemas.valueSubject(Topics.ATTEMPTS), Attempt.getClassSchema());
            registry.register(TopicSchemas.valueSubject(Topics.LOGS), LogLine.getClassSchema());
            registry.register(TopicSchemas.valueSubject(Topics.DLQ), DeadLetter.getClassSchema());
            registry.register(TopicSchemas.valueSubject(Topics.STATUS), JobState.getClassSchema());
            registered = true;
        }
    }

    /** The largest records each topic takes; Kafka's defaults until the worker has read them. */
    public void limits(TopicLimits limits) {
        this.limits = limits;
    }

    /** Reads the record limits of the topics a worker writes, with an admin client of these properties. */
    public void readLimits(Properties adminProperties) throws InterruptedException {
        try (Admin admin = Admin.create(adminProperties)) {
            limits(TopicLimits.read(admin, List.of(Topics.RESULTS, Topics.ATTEMPTS, Topics.DLQ, Topics.LOGS), Duration.ofSeconds(30)));
        }
        log.info("Records are kept within these topics' max.message.bytes: {}", limits);
    }

    public List<ProducerRecord<String, byte[]>> of(Job job, JobResult result) {
        FunctionSpec fn = job.getFunction();
        if (Retries.retryable(fn.getRetry(), result)) {
            Attempt attempt = Attempt.newBuilder().setOutcome(result).setFinished(false).setJob(job)
                    .setTraceContext(job.getTraceContext()).build();
            byte[] report = fit(Topics.ATTEMPTS, result, () -> attempts.serialize(Topics.ATTEMPTS, attempt));
            if (report != null) {
                meters.attempt(job, result, false);
                return List.of(new ProducerRecord<>(Topics.ATTEMPTS, fn.getName(), report));
            }
            // The job itself leaves no room in an attempt report: a retry could not be asked for, so this is final.
            result = tooLarge(job, result, Topics.ATTEMPTS);
        }
        return finalRecords(job, result);
    }

    private List<ProducerRecord<String, byte[]>> finalRecords(Job job, JobResult result) {
        FunctionSpec fn = job.getFunction();
        meters.attempt(job, result, true);
        result.setHistory(Results.finalHistory(job, result));
        JobResult outcome = result;
        byte[] value = fit(Topics.RESULTS, outcome, () -> results.serialize(Topics.RESULTS, outcome));
        if (value == null) {
            JobResult failed = tooLarge(job, result, Topics.RESULTS);
            failed.setHistory(result.getHistory());
            result = failed;
            value = results.serialize(Topics.RESULTS, failed);
        }
        ProducerRecord<String, byte[]> last = new ProducerRecord<>(Topics.RESULTS, job.getJobId(), value);
        ProducerRecord<String, byte[]> state = status(JobStates.of(result, job, result.getCompletedAt().toEpochMilli()));
        if (!job.getReportAttempt()) {
            return List.of(last, state);
        }
        // The dispatcher needs the body only for onSuccess chains and stderr only for onFailure ones.
        JobStatus status = result.getStatus();
        result.setBody(status == JobStatus.SUCCEEDED && !fn.getOnSuccess().isEmpty() ? result.getBody() : ByteBuffer.allocate(0));
        result.setStderrTail(fn.getOnFailure().isEmpty() ? null : result.getStderrTail());
        Attempt attempt = Attempt.newBuilder().setOutcome(result).setFinished(true).setTraceContext(job.getTraceContext()).build();
        byte[] report = fit(Topics.ATTEMPTS, result, () -> attempts.serialize(Topics.ATTEMPTS, attempt));
        if (report == null) {
            attempt.setOutcome(tooLarge(job, result, Topics.ATTEMPTS));
            report = attempts.serialize(Topics.ATTEMPTS, attempt);
        }
        return List.of(last, state, new ProducerRecord<>(Topics.ATTEMPTS, fn.getName(), report));
    }

    /** A job's state as a record of wharf.status. */
    public ProducerRecord<String, byte[]> status(JobState state) {
        return new ProducerRecord<>(Topics.STATUS, state.getJobId(), states.serialize(Topics.STATUS, state));
    }

    /**
     * The record {@code write} makes, within {@code topic}'s budget: the outcome's body is cut (and flagged truncated),
     * then its stderr tail dropped, until it fits; null if it cannot fit even so.
     */
    private byte[] fit(String topic, JobResult outcome, Supplier<byte[]> write) {
        int budget = limits.valueBudget(topic);
        byte[] value = write.get();
        if (value.length <= budget) {
            return value;
        }
        ByteBuffer body = outcome.getBody();
        if (body != null && body.remaining() > 0) {
            int keep = Math.max(0, body.remaining() - (value.length - budget) - 64);
            outcome.setBody(ByteBuffer.wrap(bytes(body), 0, keep).slice());
            outcome.setBodyTruncated(true);
            value = write.get();
        }
        if (value.length > budget && outcome.getStderrTail() != null) {
            outcome.setStderrTail(null);
            value = write.get();
        }
        if (value.length > budget) {
            log.warn("A {} record of job {} would be {} bytes, more than {}'s max.message.bytes ({}) allows", topic, outcome.getJobId(),
                    value.length, topic, limits.limit(topic));
            return null;
        }
        return value;
    }

    /** A final FAILED result for an attempt whose records cannot fit their topic, saying so. */
    private JobResult tooLarge(Job job, JobResult result, String topic) {
        return Results.of(job, JobStatus.FAILED, "The outcome of this attempt (" + result.getStatus() + ") cannot be written: its "
                        + topic + " record exceeds the topic's max.message.bytes of " + limits.limit(topic) + " bytes even without body "
                        + "and stderr. Raise the topic's max.message.bytes or send a smaller payload", result.getCompletedAt().toEpochMilli())
                .setExitCode(result.getExitCode()).setWorkerId(result.getWorkerId()).setTimings(result.getTimings()).build();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        return Utils.toArray(buffer);
    }

    /**
     * The records of a job that is not run again because it was running on too many workers that died: its final
     * {@code failed} result and its job record on the dead-letter topic.
     */
    public List<ProducerRecord<String, byte[]>> poisoned(ConsumerRecord<String, byte[]> record, Job job, JobResult failed) {
        List<ProducerRecord<String, byte[]>> out = new java.util.ArrayList<>(finalRecords(job, failed));
        out.add(deadLetter(record, job.getJobId(), job.getFunction().getName(), JobStatus.FAILED, failed.getError(),
                failed.getCompletedAt().toEpochMilli()));
        return out;
    }

    /** A job record that cannot be run (it does not decode), sent to the dead-letter topic with why. */
    public ProducerRecord<String, byte[]> deadLetter(ConsumerRecord<String, byte[]> record, String id, String reason, long now) {
        return deadLetter(record, id, null, JobStatus.REJECTED, reason, now);
    }

    private ProducerRecord<String, byte[]> deadLetter(ConsumerRecord<String, byte[]> record, String id, String function, JobStatus status,
                                                      String reason, long now) {
        log.warn("Job record {} sent to {}: {}", id, Topics.DLQ, reason);
        DeadLetter letter = DeadLetterRecords.of(id, function, status, reason, record.topic(), record.partition(), record.offset(),
                record.key(), record.value(), now);
        byte[] value = deadLetters.serialize(Topics.DLQ, letter);
        if (value.length > limits.valueBudget(Topics.DLQ)) {
            letter.setOriginalValue(null);
            letter.setReason(reason + " (its " + record.value().length + " bytes are not kept: more than " + Topics.DLQ + " takes)");
            value = deadLetters.serialize(Topics.DLQ, letter);
        }
        return new ProducerRecord<>(Topics.DLQ, id, value);
    }
}
