package io.wharf.topics;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import io.wharf.records.DeadLetter;
import io.wharf.records.JobStatus;

/** The {@code wharf.dlq} record for a record that could not be processed, keeping its bytes and where it was. */
public final class DeadLetterRecords {
    private DeadLetterRecords() {
    }

    public static DeadLetter of(String id, String function, JobStatus status, String reason, String topic, int partition, long offset,
                                String key, byte[] value, long atMillis) {
        return DeadLetter.newBuilder()
                .setId(id)
                .setFunction(function)
                .setReason(reason)
                .setStatus(status)
                .setSourceTopic(topic)
                .setSourcePartition(partition)
                .setSourceOffset(offset)
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key.getBytes(StandardCharsets.UTF_8)))
                .setOriginalValue(value == null ? null : ByteBuffer.wrap(value))
                .setAt(Instant.ofEpochMilli(atMillis))
                .build();
    }
}
