package io.wharf.sources.topic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.JobStatus;
import io.wharf.records.Trigger;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.sources.spi.TriggerParts;
import io.wharf.sources.spi.TriggerRun;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.Topics;

/**
 * One topic trigger on one instance: a consumer in the trigger's group and a transactional producer. Each turn reads
 * what is there, turns it into events (and dead letters) and sends them with the records' offsets in one transaction,
 * so a restart, a crash or a rebalance neither loses nor repeats a record. A batching trigger holds a part-filled batch
 * until it fills or its linger ends; what it holds is not committed, so it is read again if the instance goes.
 */
public final class TopicTrigger implements TriggerRun {
    private static final Logger log = LoggerFactory.getLogger(TopicTrigger.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration REGISTRY_BACKOFF = Duration.ofSeconds(1);

    private final Trigger trigger;
    private final TriggerParts parts;
    private final RecordEvents events;
    private final AvroSerializer<Event> eventSerializer;
    private final AvroSerializer<DeadLetter> deadLetterSerializer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<ConsumerRecord<byte[], byte[]>> pending = new ArrayList<>();
    private final Thread thread;
    private KafkaProducer<String, byte[]> producer;
    private long pendingSince;
    private volatile boolean paused;
    private volatile boolean closed;
    private volatile State state = State.STARTING;
    private volatile String problem;
    private volatile long lag;

    public TopicTrigger(Trigger trigger, TriggerParts parts) {
        this.trigger = trigger;
        this.parts = parts;
        com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        this.events = new RecordEvents(trigger, new RecordValues(trigger.getTopic().getFormat(), new io.wharf.serde.GenericAvroReader(parts.registry()), mapper),
                mapper, parts.payloadBudget());
        this.eventSerializer = new AvroSerializer<>(parts.registry());
        this.deadLetterSerializer = new AvroSerializer<>(parts.registry());
        this.paused = trigger.getPaused();
        this.consumer = new KafkaConsumer<>(parts.clients().consumer(io.wharf.client.Triggers.group(trigger),
                trigger.getTopic().getStartAtEnd()), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.thread = Thread.ofPlatform().name("wharf-trigger-" + trigger.getName()).unstarted(this::run);
    }

    @Override
    public TopicTrigger start() {
        thread.start();
        return this;
    }

    @Override
    public Trigger trigger() {
        return trigger;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public String problem() {
        return problem;
    }

    @Override
    public long lag() {
        return lag;
    }

    /** Pauses or resumes at the next turn (within a poll's time): a paused trigger keeps its partitions and reads nothing. */
    @Override
    public void pause(boolean pause) {
        this.paused = pause;
    }

    private void run() {
        try {
            producer = newProducer();
            consumer.subscribe(List.of(trigger.getTopic().getTopic()), new Rebalance());
            log.info("Trigger {} reading {} for function {}", trigger.getName(), trigger.getTopic().getTopic(), trigger.getFunction());
            while (!closed) {
                turn();
            }
            flush(pending.size());
            state = State.STOPPED;
        } catch (AuthorizationException e) {
            fail("Not authorized: " + e.getMessage() + ". The sources role needs READ on topic " + trigger.getTopic().getTopic()
                    + " and on its trigger groups (wharf acls gateway lists Wharf's part)", e);
        } catch (RuntimeException e) {
            fail(e.toString(), e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
            }
            log.info("Trigger {} {}", trigger.getName(), state == State.FAILED ? "failed" : "stopped");
        }
    }

    private void fail(String reason, RuntimeException e) {
        problem = reason;
        state = State.FAILED;
        log.error("Trigger {} failed: {}", trigger.getName(), reason, e);
    }

    private void turn() {
        applyPause();
        ConsumerRecords<byte[], byte[]> records = consumer.poll(pollTimeout());
        if (!records.isEmpty() && pending.isEmpty()) {
            pendingSince = parts.clock().millis();
        }
        records.forEach(pending::add);
        int batch = trigger.getTopic().getBatchSize();
        boolean lingered = !pending.isEmpty() && parts.clock().millis() - pendingSince >= trigger.getTopic().getLingerMillis();
        flush(batch == 1 || lingered ? pending.size() : pending.size() / batch * batch);
        lag = consumer.assignment().stream().mapToLong(tp -> consumer.currentLag(tp).orElse(0)).sum();
        if (state == State.STARTING && !consumer.assignment().isEmpty()) {
            state = paused ? State.PAUSED : State.RUNNING;
        }
    }

    private Duration pollTimeout() {
        if (pending.isEmpty() || trigger.getTopic().getBatchSize() == 1) {
            return POLL;
        }
        long left = pendingSince + trigger.getTopic().getLingerMillis() - parts.clock().millis();
        return Duration.ofMillis(Math.max(0, Math.min(left, POLL.toMillis())));
    }

    private void applyPause() {
        Set<TopicPartition> assigned = consumer.assignment();
        if (paused && consumer.paused().size() < assigned.size()) {
            flush(pending.size());
            consumer.pause(assigned);
            state = State.PAUSED;
            log.info("Trigger {} paused", trigger.getName());
        } else if (!paused && !consumer.paused().isEmpty()) {
            consumer.resume(consumer.paused());
            state = State.RUNNING;
            log.info("Trigger {} resumed", trigger.getName());
        }
    }

    /** Sends the first {@code count} pending records' events and commits their offsets, in one transaction. */
    private void flush(int count) {
        if (count == 0) {
            return;
        }
        List<ConsumerRecord<byte[], byte[]>> taken = pending.subList(0, count);
        List<RecordEvents.Out> outs;
        try {
            outs = events.events(taken, parts.clock().instant());
        } catch (SchemaRegistryException e) {
            // The registry is away: nothing is sent or committed, and the records are taken again once it answers.
            problem = "The schema registry did not answer: " + e.getMessage();
            log.warn("Trigger {}: {}; trying again in {} s", trigger.getName(), problem, REGISTRY_BACKOFF.toSeconds());
            rewind();
            sleepQuietly(REGISTRY_BACKOFF);
            return;
        }
        int emitted = 0, rejected = 0;
        try {
            producer.beginTransaction();
            for (RecordEvents.Out out : outs) {
                switch (out) {
                    case RecordEvents.Emit emit -> {
                        Event event = parts.sealed(emit.event());
                        producer.send(new ProducerRecord<>(Topics.EVENTS, event.getFunction(), eventSerializer.serialize(Topics.EVENTS, event)));
                        emitted++;
                    }
                    case RecordEvents.Reject reject -> {
                        producer.send(new ProducerRecord<>(Topics.DLQ, trigger.getName(), deadLetter(reject)));
                        rejected++;
                    }
                }
            }
            producer.sendOffsetsToTransaction(offsets(taken), consumer.groupMetadata());
            producer.commitTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            // Another instance took these partitions over with this instance's transactional id: start afresh.
            abort(e, false);
            producer.close(Duration.ZERO);
            producer = newProducer();
            return;
        } catch (AuthorizationException e) {
            abort(e, true);
            throw e;
        } catch (KafkaException e) {
            abort(e, true);
            return;
        }
        problem = null;
        parts.outcomes().committed(trigger.getName(), count, emitted, rejected);
        taken.clear();
        pendingSince = parts.clock().millis();
    }

    private void abort(KafkaException e, boolean abortable) {
        log.warn("Trigger {}: a transaction failed ({}); its records are read again from the last commit", trigger.getName(), e.toString());
        problem = e.toString();
        if (abortable) {
            try {
                producer.abortTransaction();
            } catch (KafkaException again) {
                producer.close(Duration.ZERO);
                producer = newProducer();
            }
        }
        parts.outcomes().aborted(trigger.getName());
        rewind();
    }

    /** Forgets what is pending and goes back to the last committed offsets: what was not committed is read again. */
    private void rewind() {
        pending.clear();
        Set<TopicPartition> assigned = consumer.assignment();
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned);
        for (TopicPartition tp : assigned) {
            OffsetAndMetadata at = committed.get(tp);
            if (at != null) {
                consumer.seek(tp, at);
            } else if (trigger.getTopic().getStartAtEnd()) {
                consumer.seekToEnd(List.of(tp));
            } else {
                consumer.seekToBeginning(List.of(tp));
            }
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> offsets(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            next.merge(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        return next;
    }

    private byte[] deadLetter(RecordEvents.Reject reject) {
        ConsumerRecord<byte[], byte[]> record = reject.record();
        byte[] value = record.value();
        String reason = "Trigger " + trigger.getName() + " could not take the record: " + reject.reason();
        if (value != null && value.length > parts.deadLetterBudget()) {
            reason += " (its value of " + value.length + " bytes is not kept here: read it at " + record.topic() + "-" + record.partition()
                    + " offset " + record.offset() + ")";
            value = null;
        }
        String key = record.key() == null ? null : RecordValues.utf8(record.key());
        return deadLetterSerializer.serialize(Topics.DLQ, DeadLetterRecords.of(trigger.getName() + "-" + record.partition() + "-" + record.offset(),
                trigger.getFunction(), JobStatus.REJECTED, reason, record.topic(), record.partition(), record.offset(), key, value,
                parts.clock().millis()));
    }

    private KafkaProducer<String, byte[]> newProducer() {
        KafkaProducer<String, byte[]> p = new KafkaProducer<>(parts.clients().producer(trigger.getName()), new StringSerializer(), new ByteArraySerializer());
        p.initTransactions();
        return p;
    }

    /** Commits what is pending before partitions go to another instance, so that nothing read here is read there again. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty() && !pending.isEmpty()) {
                flush(pending.size());
                pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            pending.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (paused) {
                consumer.pause(partitions);
            }
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops after the current turn (within a poll's time), committing what it holds; waits a bounded time. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
