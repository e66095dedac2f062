package io.wharf.dispatcher;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;

import io.wharf.records.DeadLetter;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroSerializer;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.Topics;

/** The dead letter a Streams error handler sends for an input it skips, named by the input's position. */
final class SkippedInputs {
    private SkippedInputs() {
    }

    /** {@code <topic>-<partition>@<offset>} of the input, "punctuation" for the topic of a punctuation. */
    static String id(ErrorHandlerContext context) {
        return source(context) + "-" + context.partition() + "@" + context.offset();
    }

    /** The input's key as text, or null. */
    static String key(ErrorHandlerContext context) {
        return context.sourceRawKey() == null ? null : new String(context.sourceRawKey(), StandardCharsets.UTF_8);
    }

    /** A {@code REJECTED} dead letter for the input, keyed by its id; {@code value} is the input's bytes to keep, or null. */
    static ProducerRecord<byte[], byte[]> deadLetter(ErrorHandlerContext context, AvroSerializer<DeadLetter> serializer, String function,
                                                     String reason, byte[] value) {
        String id = id(context);
        DeadLetter letter = DeadLetterRecords.of(id, function, JobStatus.REJECTED, reason, source(context), context.partition(),
                context.offset(), key(context), value, System.currentTimeMillis());
        return new ProducerRecord<>(Topics.DLQ, id.getBytes(StandardCharsets.UTF_8), serializer.serialize(Topics.DLQ, letter));
    }

    private static String source(ErrorHandlerContext context) {
        return context.topic() == null ? "punctuation" : context.topic();
    }
}
