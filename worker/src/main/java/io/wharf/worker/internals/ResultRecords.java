package io.wharf.worker.internals;

import java.nio.ByteBuffer;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.Attempt;
import io.wharf.records.DeadLetter;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.LogLine;
import io.wharf.rules.Results;
import io.wharf.rules.Retries;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.TopicSchemas;
import io.wharf.topics.Topics;

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
    private volatile boolean registered;

    public ResultRecords(SchemaRegistryClient registry) {
        this.registry = registry;
        this.results = new AvroSerializer<>(registry);
        this.attempts = new AvroSerializer<>(registry);
        this.deadLetters = new AvroSerializer<>(registry);
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
            registered = true;
        }
    }

    public List<ProducerRecord<String, byte[]>> of(Job job, JobResult result) {
        FunctionSpec fn = job.getFunction();
        if (Retries.retryable(fn.getRetry(), result)) {
            Attempt attempt = Attempt.newBuilder().setOutcome(result).setFinished(false).setJob(job)
                    .setTraceContext(job.getTraceContext()).build();
            return List.of(new ProducerRecord<>(Topics.ATTEMPTS, fn.getName(), attempts.serialize(Topics.ATTEMPTS, attempt)));
        }
        result.setHistory(Results.finalHistory(job, result));
        ProducerRecord<String, byte[]> last = new ProducerRecord<>(Topics.RESULTS, job.getJobId(), results.serialize(Topics.RESULTS, result));
        if (!job.getReportAttempt()) {
            return List.of(last);
        }
        // The dispatcher needs the body only for onSuccess chains and stderr only for onFailure ones.
        JobStatus status = result.getStatus();
        result.setBody(status == JobStatus.SUCCEEDED && !fn.getOnSuccess().isEmpty() ? result.getBody() : ByteBuffer.allocate(0));
        result.setStderrTail(fn.getOnFailure().isEmpty() ? null : result.getStderrTail());
        Attempt attempt = Attempt.newBuilder().setOutcome(result).setFinished(true).setTraceContext(job.getTraceContext()).build();
        return List.of(last, new ProducerRecord<>(Topics.ATTEMPTS, fn.getName(), attempts.serialize(Topics.ATTEMPTS, attempt)));
    }

    /** A job record that cannot be run (it does not decode), sent to the dead-letter topic with why. */
    public ProducerRecord<String, byte[]> deadLetter(ConsumerRecord<String, byte[]> record, String id, String reason, long now) {
        log.warn("Job record {} sent to {}: {}", id, Topics.DLQ, reason);
        DeadLetter letter = DeadLetterRecords.of(id, null, JobStatus.REJECTED, reason, record.topic(), record.partition(), record.offset(),
                record.key(), record.value(), now);
        return new ProducerRecord<>(Topics.DLQ, id, deadLetters.serialize(Topics.DLQ, letter));
    }
}
