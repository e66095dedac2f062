package io.wharf.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * What a run wrote to a cluster: the difference of every topic's end offsets (records, and in transactional topics
 * one marker per partition per transaction; with {@code internal}, the brokers' own consumer-offset and
 * transaction-state records too). Counted the same way for Wharf and for its bare baseline, it says how much more
 * each call asks of the brokers.
 */
final class EndOffsets {
    private EndOffsets() {
    }

    /** Each topic's end offsets, summed over its partitions. */
    static Map<String, Long> byTopic(String bootstrap, boolean internal) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var topics = admin.describeTopics(admin.listTopics(new ListTopicsOptions().listInternal(internal)).names().get()).allTopicNames().get();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            topics.values().forEach(t -> t.partitions().forEach(p -> latest.put(new TopicPartition(t.name(), p.partition()), OffsetSpec.latest())));
            Map<String, Long> ends = new TreeMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, r) -> ends.merge(tp.topic(), r.offset(), Long::sum));
            return ends;
        }
    }

    static long total(String bootstrap, boolean internal) throws Exception {
        return byTopic(bootstrap, internal).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Per call, by topic: what grew from {@code before} to {@code after}. */
    static Map<String, Double> perCall(Map<String, Long> before, Map<String, Long> after, int calls) {
        Map<String, Double> grown = new TreeMap<>();
        after.forEach((topic, end) -> {
            long d = end - before.getOrDefault(topic, 0L);
            if (d > 0) {
                grown.put(topic, d / (double) calls);
            }
        });
        return grown;
    }
}
