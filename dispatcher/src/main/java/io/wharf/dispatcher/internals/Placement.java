package io.wharf.dispatcher.internals;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.topics.Topics;

/**
 * Where a keyed record belongs, so that records do not depend on their producer's partitioner. A function's
 * spec, events and attempts must meet in the task of the partition {@link Topics#partitionOf} gives its name
 * (a schedule's, in that of its id), but only Java's producer picks that partition by default: librdkafka's
 * clients hash with CRC32, others go round-robin or name a partition. A record found elsewhere is written
 * again under its key to the partition it belongs to, marked with {@link #REROUTED_HEADER}, and handled there
 * once — in the Streams transaction that consumed it, so nothing is lost or doubled.
 *
 * <p>The partition counts are read from the broker when the dispatcher starts. Topics without a count are not
 * checked (what {@code TopologyTestDriver}, whose inputs all arrive on partition 0, needs).
 */
public final class Placement {
    private static final Logger log = LoggerFactory.getLogger(Placement.class);
    /** Set on a record the dispatcher moved; its value is where the record first arrived. */
    public static final String REROUTED_HEADER = Topics.REROUTED_HEADER;

    private final Map<String, Integer> partitions;

    /** @param partitions partition count by topic; topics not named here are not checked */
    public Placement(Map<String, Integer> partitions) {
        this.partitions = Map.copyOf(partitions);
    }

    /** Whether the record being processed sits on the partition that {@code key} belongs to. */
    public boolean belongsHere(ProcessorContext<?, ?> context, String key) {
        Optional<RecordMetadata> meta = context.recordMetadata();
        if (meta.isEmpty()) {
            return true; // punctuation: nothing was read
        }
        Integer count = partitions.get(meta.get().topic());
        return count == null || key != null && Topics.partitionOf(key, count) == meta.get().partition();
    }

    /**
     * Moves the record being processed to the partition {@code key} belongs to, through {@code sink}, unless it is
     * there already. A record moved once is handled where it arrives even if that is still not its partition (the
     * topic's partition count changed since start): moving it again could go on forever.
     *
     * @return whether it was moved, so the caller has nothing more to do with it
     */
    public boolean moveIfMisplaced(ProcessorContext<String, Object> context, Record<String, byte[]> record, String key, String sink) {
        if (belongsHere(context, key)) {
            return false;
        }
        Header moved = record.headers().lastHeader(REROUTED_HEADER);
        if (moved != null) {
            log.warn("Record {} was moved from {} and is still not on the partition of its key: handled here. Did the partition count of "
                    + "{} change since the dispatcher started? Restart it.", key, new String(moved.value(), StandardCharsets.UTF_8),
                    context.recordMetadata().map(RecordMetadata::topic).orElse("?"));
            return false;
        }
        move(context, record, key, sink);
        return true;
    }

    /** Writes the record again under {@code key}, marked as moved from where it was read; value and timestamp unchanged. */
    public static void move(ProcessorContext<String, Object> context, Record<String, byte[]> record, String key, String sink) {
        String from = DeadLetters.positionId(context);
        Headers headers = new RecordHeaders(record.headers().toArray());
        headers.remove(REROUTED_HEADER).add(REROUTED_HEADER, from.getBytes(StandardCharsets.UTF_8));
        context.forward(new Record<String, Object>(key, record.value(), record.timestamp(), headers), sink);
    }

    /** The partitioner of the sinks that move records: the same rule as {@link #belongsHere}. */
    public static <V> StreamPartitioner<String, V> partitioner() {
        return (topic, key, value, count) -> Optional.of(Set.of(Topics.partitionOf(key, count)));
    }
}
