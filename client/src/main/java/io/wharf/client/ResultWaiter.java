package io.wharf.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;

import io.wharf.records.JobResult;
import io.wharf.topics.Topics;

/**
 * Completes the futures of invoked jobs as their final results arrive. One thread owns one consumer of
 * {@code wharf.results}, positioned at the end before the first job is sent (so no result slips past) and kept
 * for the client's life (so no call pays for a new consumer). It decodes only the results someone awaits: every
 * instance of a service reads every result, most of them another instance's.
 */
final class ResultWaiter implements AutoCloseable {
    private final Map<String, CompletableFuture<JobResult>> awaited = new ConcurrentHashMap<>();
    private final Thread thread;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private volatile boolean closed;

    ResultWaiter(Supplier<KafkaConsumer<String, byte[]>> consumers, Deserializer<JobResult> decoder) {
        this.thread = Thread.ofPlatform().daemon().name("wharf-client-results").start(() -> run(consumers, decoder));
        ready.join(); // positioned at the end: results of jobs sent from now on are seen
    }

    /** A future completed with the final result of {@code jobId}; register it before sending the job. */
    CompletableFuture<JobResult> await(String jobId) {
        CompletableFuture<JobResult> result = awaited.computeIfAbsent(jobId, id -> new CompletableFuture<>());
        result.whenComplete((r, e) -> awaited.remove(jobId, result));
        return result;
    }

    private void run(Supplier<KafkaConsumer<String, byte[]>> consumers, Deserializer<JobResult> decoder) {
        try (KafkaConsumer<String, byte[]> results = consumers.get()) {
            assignAtEnd(results).forEach(results::position); // resolves the end offsets now, not at the first poll
            ready.complete(null);
            while (!closed) {
                for (ConsumerRecord<String, byte[]> record : results.poll(Duration.ofMillis(100))) {
                    CompletableFuture<JobResult> result = awaited.get(record.key());
                    if (result != null) {
                        try {
                            result.complete(decoder.deserialize(record.topic(), record.headers(), record.value()));
                        } catch (RuntimeException e) {
                            result.completeExceptionally(e); // this caller's result is unreadable; the others go on
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            ready.completeExceptionally(e);
            awaited.values().forEach(f -> f.completeExceptionally(e));
        }
    }

    /** Assigns every partition of wharf.results, positioned at the end. */
    static List<TopicPartition> assignAtEnd(KafkaConsumer<String, ?> consumer) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo info : consumer.partitionsFor(Topics.RESULTS)) {
            partitions.add(new TopicPartition(info.topic(), info.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        return partitions;
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        awaited.values().forEach(f -> f.cancel(false));
    }
}
