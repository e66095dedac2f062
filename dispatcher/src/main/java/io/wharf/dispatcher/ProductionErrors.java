package io.wharf.dispatcher;

import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.DeadLetter;
import io.wharf.serde.AvroSerializer;
import io.wharf.topics.Topics;

/**
 * What the dispatcher does when the broker refuses a record it writes as too large. Its processors keep jobs within
 * their topic's limit (an event whose job would not fit is refused), so this is the net under that rule: the
 * record that caused it is skipped with a dead letter naming it, instead of its input being replayed forever.
 * Other production errors fail the task, which retries from its last commit.
 */
public final class ProductionErrors implements ProductionExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ProductionErrors.class);
    private final AvroSerializer<DeadLetter> serializer = new AvroSerializer<>();

    @Override
    public void configure(Map<String, ?> configs) {
        serializer.configure(configs, false);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (!(exception instanceof RecordTooLargeException)) {
            return Response.fail();
        }
        int size = record.value() == null ? 0 : record.value().length;
        String reason = "A " + size + "-byte record for " + record.topic() + " was refused as too large (" + exception.getMessage()
                + "); the input that made it was skipped. Raise " + record.topic() + "'s max.message.bytes to run such inputs";
        log.error("Record {} sent to {}: {}", SkippedInputs.id(context), Topics.DLQ, reason);
        return Response.resume(List.of(SkippedInputs.deadLetter(context, serializer, null, reason, null)));
    }
}
