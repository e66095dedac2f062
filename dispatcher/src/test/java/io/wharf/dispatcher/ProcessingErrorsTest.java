package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

import io.wharf.records.DeadLetter;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.InMemorySchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.Topics;

class ProcessingErrorsTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    private static ErrorHandlerContext context() {
        return new ErrorHandlerContext() {
            public String topic() { return Topics.EVENTS; }
            public int partition() { return 2; }
            public long offset() { return 41; }
            public Headers headers() { return new RecordHeaders(); }
            public String processorNodeId() { return "dispatch"; }
            public TaskId taskId() { return new TaskId(0, 2); }
            public long timestamp() { return 0; }
            public byte[] sourceRawKey() { return "fn".getBytes(StandardCharsets.UTF_8); }
            public byte[] sourceRawValue() { return new byte[] {0, 1, 2}; }
        };
    }

    @Test
    void aRecordTheDispatcherCannotHandleGoesToTheDeadLetterTopicAndTheRestGoOn() {
        ProcessingExceptionHandler.Response response = new ProcessingErrors(registry)
                .handleError(context(), new Record<>("fn", new byte[0], 0L), new IllegalStateException("boom"));
        assertThat(response.result()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
        assertThat(response.deadLetterQueueRecords()).hasSize(1).allSatisfy(r -> {
            assertThat(r.topic()).isEqualTo(Topics.DLQ);
            DeadLetter letter = new AvroDeserializer<>(registry, DeadLetter.class).deserialize(Topics.DLQ, r.value());
            assertThat(letter.getId()).isEqualTo("wharf.events-2@41");
            assertThat(letter.getReason()).contains("boom").contains("dispatch");
            assertThat(letter.getOriginalValue()).isEqualTo(ByteBuffer.wrap(new byte[] {0, 1, 2}));
        });
    }

    @Test
    void anUnavailableRegistryFailsTheTaskSoThatItRetries() {
        Exception down = new SchemaRegistryException("Could not reach the schema registry", new IOException("refused"), true);
        assertThat(new ProcessingErrors(registry).handleError(context(), new Record<>("fn", new byte[0], 0L), down).result())
                .isEqualTo(ProcessingExceptionHandler.Result.FAIL);
    }
}
