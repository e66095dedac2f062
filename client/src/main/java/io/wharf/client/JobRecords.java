package io.wharf.client;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;

/**
 * One job's records on a topic keyed by job id ({@code wharf.results}, {@code wharf.logs}): read from the one
 * partition the job id hashes to (Kafka's default partitioner, which every Wharf writer uses), from a time just
 * before the job began, so that finding them costs a seek and a short read, not a scan of the topic.
 */
final class JobRecords {
    /** How far before the given time the read begins: clocks of writers and brokers differ a little. */
    private static final Duration SLACK = Duration.ofSeconds(30);

    private static final Duration LINGER = Duration.ofSeconds(1);

    private final Supplier<Properties> consumers;

    JobRecords(Supplier<Properties> consumers) {
        this.consumers = consumers;
    }

    /**
     * Calls {@code sink} with each record of {@code jobId} on {@code topic} written from about {@code from} on, until
     * the partition's end as it was at the call ({@code follow} false) or, following, until {@code done} says so once
     * the reader is at the end.
     */
    <T> void read(String topic, String jobId, Instant from, Deserializer<T> values, boolean follow, BooleanSupplier done, Consumer<T> sink) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumers.get(), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(15));
            if (infos == null || infos.isEmpty()) {
                return;
            }
            TopicPartition partition = new TopicPartition(topic, Utils.toPositive(Utils.murmur2(jobId.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    % infos.size());
            consumer.assign(List.of(partition));
            Map<TopicPartition, OffsetAndTimestamp> start = consumer.offsetsForTimes(Map.of(partition, Math.max(0, from.minus(SLACK).toEpochMilli())));
            if (start.get(partition) == null) {
                consumer.seekToEnd(List.of(partition));
            } else {
                consumer.seek(partition, start.get(partition).offset());
            }
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            long doneAt = 0;
            while (!Thread.currentThread().isInterrupted()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (jobId.equals(record.key()) && record.value() != null) {
                        sink.accept(values.deserialize(topic, record.value()));
                    }
                }
                long position = consumer.position(partition);
                if (!follow) {
                    if (position >= end) {
                        return;
                    }
                } else if (position >= consumer.endOffsets(List.of(partition)).get(partition)) {
                    // Once done, a little longer: the last records may land just after what said it was done.
                    if (doneAt == 0 && done.getAsBoolean()) {
                        doneAt = System.nanoTime();
                    } else if (doneAt != 0 && System.nanoTime() - doneAt > LINGER.toNanos()) {
                        return;
                    }
                }
            }
        }
    }

    /** The last record of {@code jobId} on {@code topic} from about {@code from} on, if any. */
    <T> Optional<T> last(String topic, String jobId, Instant from, Deserializer<T> values) {
        java.util.concurrent.atomic.AtomicReference<T> found = new java.util.concurrent.atomic.AtomicReference<>();
        read(topic, jobId, from, values, false, () -> true, found::set);
        return Optional.ofNullable(found.get());
    }
}
