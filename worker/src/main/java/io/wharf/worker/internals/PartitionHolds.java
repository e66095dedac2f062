package io.wharf.worker.internals;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Partitions the poll loop holds at a record (sought back to it and paused) until what holds them is over: a schema
 * registry that could not answer (tried again after a delay), or no room left in the commit metadata for more jobs
 * finished above the partition's oldest running one (until that job finishes and the commit moves on). Loop thread
 * only.
 */
public final class PartitionHolds {
    private static final Logger log = LoggerFactory.getLogger(PartitionHolds.class);
    /** A partition held at a job the registry could not decode yet is read again after this long. */
    private static final Duration REGISTRY_RETRY = Duration.ofSeconds(1);

    private final Map<TopicPartition, Long> registryRetryAt = new HashMap<>();
    private final Map<TopicPartition, Long> roomFor = new HashMap<>();

    public boolean held(TopicPartition tp) {
        return registryRetryAt.containsKey(tp) || roomFor.containsKey(tp);
    }

    /**
     * A job whose schema the registry could not serve (unreachable, or a 5xx), or met before the registry took the
     * worker's own schemas, is sound: it is not dead-lettered. Its partition goes back to that record and pauses for
     * {@link #REGISTRY_RETRY}, so it and the jobs behind it are read again once the registry answers, in order; other
     * partitions go on.
     */
    public void untilRegistry(Consumer<?, ?> consumer, ConsumerRecord<?, ?> record, RuntimeException e) {
        TopicPartition tp = holdAt(consumer, record);
        registryRetryAt.put(tp, System.nanoTime() + REGISTRY_RETRY.toNanos());
        log.warn("Job at {}@{} waits for the schema registry ({}); retrying in {} ms", tp, record.offset(), e.getMessage(),
                REGISTRY_RETRY.toMillis());
    }

    /** A job that the commit metadata would have no room to list once finished: held until the oldest running job finishes. */
    public void untilRoom(Consumer<?, ?> consumer, ConsumerRecord<?, ?> record) {
        TopicPartition tp = holdAt(consumer, record);
        roomFor.put(tp, record.offset());
        log.info("Job at {}@{} waits: too many jobs finished above the partition's oldest running one for the commit to list more",
                tp, record.offset());
    }

    private static TopicPartition holdAt(Consumer<?, ?> consumer, ConsumerRecord<?, ?> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        consumer.seek(tp, record.offset());
        consumer.pause(List.of(tp));
        return tp;
    }

    public void forget(TopicPartition tp) {
        registryRetryAt.remove(tp);
        roomFor.remove(tp);
    }

    /** Ends the holds that are over at {@code nowNanos}. */
    public void release(long nowNanos, Map<TopicPartition, PartitionTracker> trackers) {
        registryRetryAt.values().removeIf(retryAt -> nowNanos - retryAt >= 0);
        roomFor.entrySet().removeIf(e -> trackers.get(e.getKey()) == null || trackers.get(e.getKey()).hasRoomFor(e.getValue()));
    }
}
