package io.wharf.worker.internals;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

import io.wharf.records.Job;
import io.wharf.records.Ordering;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryException;

/**
 * A job taken from its partition, decoded; {@code job} is null when the record could not be decoded, and
 * {@code orderingKey} names the key it must wait on (null if its function does not order by key).
 */
public record Taken(ConsumerRecord<String, byte[]> record, TopicPartition partition, PartitionTracker tracker, Job job,
                    String decodeError, String orderingKey) {

    /**
     * Decodes the job of {@code record}; a record that does not decode is taken too, to be dead-lettered.
     *
     * @throws SchemaRegistryException when the registry is unavailable: the record must wait, not be refused
     */
    public static Taken decode(ConsumerRecord<String, byte[]> record, TopicPartition tp, PartitionTracker tracker, AvroDeserializer<Job> jobs) {
        if (record.value() == null) {
            return new Taken(record, tp, tracker, null, "Job record has no value: there is nothing to run (only the dispatcher writes job topics)", null);
        }
        try {
            Job job = jobs.deserialize(record.topic(), record.value());
            // Keys are per function: two functions may use the same key without waiting on each other.
            String key = job.getFunction().getOrdering() != Ordering.KEY ? null
                    : job.getFunction().getName() + '\u0000' + (job.getKey() != null ? job.getKey() : record.key());
            return new Taken(record, tp, tracker, job, null, key);
        } catch (RuntimeException e) {
            if (SchemaRegistryException.isUnavailable(e)) {
                throw e;
            }
            return new Taken(record, tp, tracker, null, "Job could not be decoded: " + e.getMessage(), null);
        }
    }
}
