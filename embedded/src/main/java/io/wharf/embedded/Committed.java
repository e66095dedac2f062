package io.wharf.embedded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** What a {@code read_committed} reader of a topic sees: every committed record from its beginning to its end now. */
public final class Committed {
    private Committed() {
    }

    /** The values of every committed record of {@code topic}, read from its beginning up to its end offsets now. */
    public static <T> List<T> readAll(String bootstrap, String topic, Deserializer<T> values) {
        return readAll(bootstrap, topic, values, ConsumerRecord::value);
    }

    /** As {@link #readAll(String, String, Deserializer)}, each record as {@code as} makes it (its time too, say). */
    public static <T, R> List<R> readAll(String bootstrap, String topic, Deserializer<T> values, Function<ConsumerRecord<String, T>, R> as) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<R> out = new ArrayList<>();
        try (KafkaConsumer<String, T> consumer = new KafkaConsumer<>(c, new StringDeserializer(), values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(as.apply(r)));
            }
        }
        return out;
    }
}
