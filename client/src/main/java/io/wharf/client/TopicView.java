package io.wharf.client;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The latest value per key of a compacted topic ({@code wharf.functions}, {@code wharf.apikeys}, {@code wharf.status}),
 * kept current by one thread that reads every partition from its beginning and then follows it: what a gateway
 * instance answers from without a round trip to the broker per request. A value that does not decode removes its key
 * (the dispatcher refuses it too), a tombstone removes it.
 */
public final class TopicView<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TopicView.class);

    private final String topic;
    private final Map<String, T> current = new ConcurrentHashMap<>();
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final KafkaConsumer<String, byte[]> consumer;
    private final Deserializer<T> values;
    private final BiConsumer<String, T> onChange;
    private final java.util.function.BinaryOperator<T> fold;
    private final Bound<T> bound;
    private final Thread thread;
    private final Queue<CompletableFuture<Void>> refreshes = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    /**
     * Starts following {@code topic}; {@code onChange} is told each key's new value (null when removed), from the
     * view's own thread, after the view holds it.
     */
    TopicView(Properties consumerSettings, String topic, Deserializer<T> values, BiConsumer<String, T> onChange) {
        this(consumerSettings, topic, values, (current, next) -> next, null, onChange);
    }

    /**
     * Bounds a view: past {@code maxEntries} keys (and a tenth more, so that trimming is rare), the oldest by
     * {@code age} are dropped, until the topic says more of them.
     */
    public record Bound<T>(int maxEntries, java.util.function.ToLongFunction<T> age) {
    }

    /**
     * @param fold  what the view holds for a key when {@code next} arrives over {@code current} (null for none yet)
     * @param bound at most how many keys it holds, or null for all
     */
    TopicView(Properties consumerSettings, String topic, Deserializer<T> values, java.util.function.BinaryOperator<T> fold, Bound<T> bound,
              BiConsumer<String, T> onChange) {
        this.topic = topic;
        this.values = values;
        this.fold = fold;
        this.bound = bound;
        this.onChange = onChange;
        this.consumer = new KafkaConsumer<>(consumerSettings, new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = Thread.ofPlatform().daemon().name("wharf-view-" + topic).start(this::run);
    }

    public Optional<T> get(String key) {
        return Optional.ofNullable(key == null ? null : current.get(key));
    }

    /** A copy of every current value by key. */
    public Map<String, T> snapshot() {
        return new HashMap<>(current);
    }

    /** Waits until the view holds everything the topic held when it started; false at the timeout. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean isCaughtUp() {
        return caughtUp.getCount() == 0;
    }

    /**
     * Waits until the view holds everything written to the topic before this call (a read barrier: a function
     * deployed a moment ago is found); false at the timeout.
     */
    public boolean refresh(Duration timeout) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        refreshes.add(done);
        consumer.wakeup();
        try {
            done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void run() {
        try {
            List<TopicPartition> partitions = null;
            Map<TopicPartition, Long> end = null;
            Map<CompletableFuture<Void>, Map<TopicPartition, Long>> barriers = new HashMap<>();
            while (!closed) {
                try {
                    if (partitions == null) {
                        partitions = assignFromBeginning();
                        end = consumer.endOffsets(partitions);
                    }
                    if (!refreshes.isEmpty()) {
                        Map<TopicPartition, Long> now = consumer.endOffsets(partitions);
                        for (CompletableFuture<Void> asked; (asked = refreshes.poll()) != null; ) {
                            barriers.put(asked, now);
                        }
                        completeReached(partitions, barriers); // a view already at the end answers without a poll
                    }
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                        apply(record);
                    }
                    if (caughtUp.getCount() > 0 && reached(partitions, end)) {
                        caughtUp.countDown();
                    }
                    completeReached(partitions, barriers);
                } catch (WakeupException e) {
                    // a refresh asked, or closed: the loop sees which
                }
            }
        } catch (RuntimeException e) {
            if (!closed) {
                log.error("The view of {} stopped following it: {}", topic, e.toString());
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void completeReached(List<TopicPartition> partitions, Map<CompletableFuture<Void>, Map<TopicPartition, Long>> barriers) {
        barriers.entrySet().removeIf(b -> reached(partitions, b.getValue()) && b.getKey().complete(null));
    }

    private boolean reached(List<TopicPartition> partitions, Map<TopicPartition, Long> ends) {
        return partitions.stream().allMatch(tp -> consumer.position(tp) >= ends.get(tp));
    }

    private List<TopicPartition> assignFromBeginning() {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("Topic " + topic + " does not exist: `wharf topics create` makes Wharf's topics");
        }
        List<TopicPartition> partitions = infos.stream().map(info -> new TopicPartition(info.topic(), info.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return partitions;
    }

    private void apply(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null) {
            return;
        }
        T value = null;
        if (record.value() != null) {
            try {
                value = values.deserialize(topic, record.value());
            } catch (RuntimeException e) {
                log.warn("Record {} of {} does not decode and counts as removed: {}", record.key(), topic, e.getMessage());
            }
        }
        if (value == null) {
            current.remove(record.key());
        } else {
            value = fold.apply(current.get(record.key()), value);
            current.put(record.key(), value);
            if (bound != null && current.size() > bound.maxEntries() + bound.maxEntries() / 10) {
                trim();
            }
        }
        onChange.accept(record.key(), value);
    }

    private void trim() {
        List<Map.Entry<String, T>> oldest = current.entrySet().stream()
                .sorted(java.util.Comparator.comparingLong(e -> bound.age().applyAsLong(e.getValue())))
                .limit(current.size() - bound.maxEntries()).toList();
        oldest.forEach(e -> current.remove(e.getKey(), e.getValue()));
    }

    /** How many keys the view holds. */
    public int size() {
        return current.size();
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
