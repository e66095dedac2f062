package io.wharf.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.LongBinaryOperator;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A topic read once, every partition up to where it ended when the read began (30 s at most): what the client's
 * snapshots of compacted topics ({@code functions()}, {@code states()}) and its latest-records reads are made of.
 */
final class TopicReads {
    private static final Duration LIMIT = Duration.ofSeconds(30);

    private final Supplier<Properties> consumers;

    TopicReads(Supplier<Properties> consumers) {
        this.consumers = consumers;
    }

    /**
     * Hands {@code sink} every record of {@code topic} from the offset {@code start} picks for each partition (given
     * its beginning and end offsets) to its end; none for a topic that does not exist.
     */
    void toEnd(String topic, LongBinaryOperator start, Consumer<ConsumerRecord<String, byte[]>> sink) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumers.get(), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic);
            if (infos == null || infos.isEmpty()) {
                return; // a cluster made before the topic existed: nothing there yet
            }
            List<TopicPartition> partitions = infos.stream().map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            partitions.forEach(tp -> consumer.seek(tp, start.applyAsLong(begin.get(tp), end.get(tp))));
            long deadline = System.nanoTime() + LIMIT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.offset() < end.get(new TopicPartition(record.topic(), record.partition()))) {
                        sink.accept(record);
                    }
                }
            }
        }
    }
}
