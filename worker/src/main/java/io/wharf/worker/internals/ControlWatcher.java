package io.wharf.worker.internals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.Control;
import io.wharf.records.ControlAction;
import io.wharf.records.PoolPolicy;
import io.wharf.rules.PoolPolicies;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * Reads what operators and users tell every worker, without a consumer group: each cancel request on
 * {@code wharf.control}, from the topic's retention window on, so a job cancelled before this worker started is still
 * recognised when it is taken (the most recent {@link #MAX_REMEMBERED} are remembered); and its pool's policy on
 * {@code wharf.pools}, from the start of that compacted topic. Until an operator sets one, the pool has the defaults.
 */
public final class ControlWatcher implements Cancels, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlWatcher.class);
    static final int MAX_REMEMBERED = 100_000;

    private final KafkaConsumer<String, byte[]> consumer;
    private final AvroDeserializer<Control> deserializer;
    private final AvroDeserializer<PoolPolicy> policies;
    private final String pool;
    private volatile PoolPolicy policy;
    private final Consumer<String> onCancel;
    private final Map<String, String> cancelled = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean closed;

    /** {@code consumerProperties}: where the cluster is and how to reach it; the watcher reads without a group. */
    public ControlWatcher(Properties consumerProperties, String workerId, String pool, SchemaRegistryClient registry, Consumer<String> onCancel) {
        this.consumer = new KafkaConsumer<>(consumerProperties, new StringDeserializer(), new ByteArrayDeserializer());
        this.deserializer = new AvroDeserializer<>(registry, Control.class);
        this.policies = new AvroDeserializer<>(registry, PoolPolicy.class);
        this.pool = pool;
        this.policy = PoolPolicies.defaults(pool);
        this.onCancel = onCancel;
        this.thread = Thread.ofPlatform().daemon().name("wharf-control-" + workerId).unstarted(this::run);
    }

    public ControlWatcher start() {
        thread.start();
        return this;
    }

    /** The pool's policy as last read (the defaults until one is). */
    public PoolPolicy policy() {
        return policy;
    }

    /** Waits until the requests and policies that existed at start have been read. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Why the job was cancelled, or null if it was not. */
    @Override
    public synchronized String reason(String jobId) {
        return cancelled.get(jobId);
    }

    private void run() {
        try {
            List<TopicPartition> control = partitionsOf(Topics.CONTROL);
            List<TopicPartition> pools = partitionsOf(Topics.POOLS);
            if (pools.isEmpty()) {
                log.warn("There is no {} topic: pool {} keeps the default policy (no host network, no root); `wharf topics create` makes it",
                        Topics.POOLS, pool);
            }
            List<TopicPartition> partitions = new ArrayList<>(control);
            partitions.addAll(pools);
            consumer.assign(partitions);
            consumer.seekToBeginning(pools);
            Map<TopicPartition, Long> since = new HashMap<>();
            control.forEach(tp -> since.put(tp, System.currentTimeMillis() - Topics.CONTROL_RETENTION_MS));
            Map<TopicPartition, OffsetAndTimestamp> start = consumer.offsetsForTimes(since);
            for (TopicPartition tp : control) {
                OffsetAndTimestamp at = start.get(tp);
                if (at == null) {
                    consumer.seekToEnd(List.of(tp));
                } else {
                    consumer.seek(tp, at.offset());
                }
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (!closed) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    handle(record);
                }
                if (caughtUp.getCount() > 0 && end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            log.error("Cancel requests and pool policies can no longer be read; running jobs cannot be cancelled on this worker", e);
        } finally {
            caughtUp.countDown();
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private List<TopicPartition> partitionsOf(String topic) {
        List<org.apache.kafka.common.PartitionInfo> infos = consumer.partitionsFor(topic);
        return infos == null ? List.of() : infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    }

    private void handle(ConsumerRecord<String, byte[]> record) {
        if (record.topic().equals(Topics.POOLS)) {
            policy(record);
            return;
        }
        Control control;
        try {
            control = deserializer.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            log.warn("Ignoring an undecodable record at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.getMessage());
            return;
        }
        if (control.getAction() == ControlAction.CANCEL) {
            synchronized (this) {
                cancelled.put(control.getJobId(), control.getReason() == null ? "cancelled" : control.getReason());
            }
            onCancel.accept(control.getJobId());
        }
    }

    private void policy(ConsumerRecord<String, byte[]> record) {
        if (!pool.equals(record.key())) {
            return;
        }
        if (record.value() == null) {
            policy = PoolPolicies.defaults(pool);
            log.info("Pool {} is back to the default policy", pool);
            return;
        }
        try {
            policy = policies.deserialize(record.topic(), record.value());
            log.info("Pool {} has a new policy: {}", pool, policy);
        } catch (RuntimeException e) {
            // The previous policy stays: an unreadable record must not loosen (nor silently tighten) what is allowed.
            log.warn("Ignoring an undecodable policy of pool {} at {}-{}@{}: {}", pool, record.topic(), record.partition(), record.offset(),
                    e.getMessage());
        }
    }

    @Override
    public void close() {
        closed = true;
        if (thread.getState() == Thread.State.NEW) {
            consumer.close(Duration.ZERO); // never started: its loop, which closes the consumer, never ran
            return;
        }
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
