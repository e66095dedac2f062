package io.wharf.worker.internals;

import java.util.List;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A job's outcome on its way back to the poll loop and into a transaction: the records it became and the
 * offset they free. {@code records} is empty for an abandoned job; {@code tracker} tells whether the partition
 * is still the one the job was taken from (a partition that moved away and back has a new tracker).
 */
public record Completion(TopicPartition partition, PartitionTracker tracker, long offset, List<ProducerRecord<String, byte[]>> records,
                         String jobId, String orderingKey) {

    /** The bytes its records hold. */
    public long bytes() {
        long bytes = 0;
        for (ProducerRecord<String, byte[]> r : records) {
            bytes += r.value() == null ? 0 : r.value().length;
        }
        return bytes;
    }
}
