package io.wharf.dispatcher;

import java.util.List;
import java.util.Map;

import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.DeadLetter;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.Topics;

/**
 * What the dispatcher does when processing a record throws, which its processors never do for bad input (that
 * becomes a refusal): a registry that cannot answer fails the task, which restarts from its last commit and
 * tries again; anything else is a record the dispatcher cannot handle, so it goes to {@code wharf.dlq} with the
 * exception and its original bytes, and the records behind it go on instead of failing forever on it.
 */
public final class ProcessingErrors implements ProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ProcessingErrors.class);
    private final AvroSerializer<DeadLetter> serializer;

    /** For Streams, which configures it with the application's settings (the registry URL among them). */
    public ProcessingErrors() {
        this.serializer = new AvroSerializer<>();
    }

    ProcessingErrors(SchemaRegistryClient registry) {
        this.serializer = new AvroSerializer<>(registry);
    }

    @Override
    public void configure(Map<String, ?> configs) {
        serializer.configure(configs, false);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (SchemaRegistryException.isUnavailable(exception)) {
            log.warn("Schema registry unavailable while processing {}-{}@{}: retrying from the last commit", context.topic(),
                    context.partition(), context.offset(), exception);
            return Response.fail();
        }
        String reason = "The dispatcher failed on this record in " + context.processorNodeId() + " (" + exception
                + "); it was skipped and the records behind it went on";
        log.error("Record {} sent to {}: {}", SkippedInputs.id(context), Topics.DLQ, reason, exception);
        return Response.resume(List.of(SkippedInputs.deadLetter(context, serializer, SkippedInputs.key(context), reason,
                context.sourceRawValue())));
    }
}
