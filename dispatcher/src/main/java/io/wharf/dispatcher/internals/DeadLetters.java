package io.wharf.dispatcher.internals;

import java.time.Instant;

import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.Timings;
import io.wharf.topics.DeadLetterRecords;

/** Builds and forwards the two records of a refusal: a result the user sees and a dead letter operators see. */
final class DeadLetters {
    private DeadLetters() {
    }

    /** {@code <topic>-<partition>@<offset>}: an id for a record whose own id could not be read. */
    static String positionId(ProcessorContext<?, ?> context) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        return meta.topic() + "-" + meta.partition() + "@" + meta.offset();
    }

    static void deadLetter(ProcessorContext<String, Object> context, Record<String, byte[]> original, String id, String function,
                           JobStatus status, String reason) {
        deadLetter(context, original, id, function, status, reason, Names.DLQ_SINK);
    }

    static void deadLetter(ProcessorContext<String, Object> context, Record<String, byte[]> original, String id, String function,
                           JobStatus status, String reason, String sink) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        long now = context.currentSystemTimeMs();
        DeadLetter letter = DeadLetterRecords.of(id, function, status, reason, meta.topic(), meta.partition(), meta.offset(),
                original.key(), original.value(), now);
        context.forward(new Record<String, Object>(id, letter, now), sink);
    }

    /**
     * A {@code REJECTED} (or other refusing) result plus its dead letter. {@code event}, when it could be read, gives
     * the result its creation time and its callback: a caller who asked for one hears of the refusal too.
     */
    static void refuse(ProcessorContext<String, Object> context, Record<String, byte[]> original, String jobId, String function,
                       JobStatus status, String reason, Event event) {
        answer(context, refusal(context, jobId, function, status, reason, event).build());
        deadLetter(context, original, jobId, function, status, reason);
    }

    /** The result of an event refused before it became a job, to complete (or forward as it is with {@link #answer}). */
    static JobResult.Builder refusal(ProcessorContext<String, Object> context, String jobId, String function, JobStatus status, String reason,
                                     Event event) {
        long now = context.currentSystemTimeMs();
        Long eventCreatedAt = event == null ? null : event.getCreatedAt().toEpochMilli();
        return JobResult.newBuilder()
                .setJobId(jobId)
                .setFunction(function == null ? "" : function)
                .setStatus(status)
                .setError(reason)
                .setTimings(Timings.newBuilder().setEventCreatedAt(eventCreatedAt).setFinishedAt(now).build())
                .setCompletedAt(Instant.ofEpochMilli(now))
                .setCallback(event == null ? null : event.getCallback());
    }

    static void answer(ProcessorContext<String, Object> context, JobResult result) {
        context.forward(new Record<String, Object>(result.getJobId(), result, result.getCompletedAt().toEpochMilli()), Names.RESULTS_SINK);
    }
}
