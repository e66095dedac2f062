package io.wharf.client;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.wharf.client.WharfClient.Resend;
import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.rules.JobStates;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * The calls part of {@link WharfClient}: events made, sealed and sent, and the futures of their jobs' results. It
 * shares the client's producer and owns the one {@link ResultWaiter} its calls wait on, made at the first call.
 */
final class EventCalls implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final SchemaRegistryClient registry;
    private final String bootstrap;
    /** The client's synchronous send, which names a denied write as the client's other writes do. */
    private final java.util.function.Consumer<ProducerRecord<String, byte[]>> sendNow;
    private final Supplier<KafkaConsumer<String, byte[]>> resultReaders;
    private final Function<String, Optional<JobState>> states;
    private final BiFunction<String, Instant, Optional<JobResult>> results;
    /** Kept, not made per call: a serializer builds its Avro writer on first use (a gateway sends an event per request). */
    private final AvroSerializer<Event> eventSerializer;
    private final AvroSerializer<JobState> stateSerializer;
    private final PayloadSealing sealing;
    private ResultWaiter waiter;

    /**
     * @param states  a job's state now, as {@link WharfClient#state} reads it
     * @param results a job's written result, as {@link WharfClient#result} reads it
     */
    EventCalls(KafkaProducer<String, byte[]> producer, SchemaRegistryClient registry, String bootstrap,
               java.util.function.Consumer<ProducerRecord<String, byte[]>> sendNow, Supplier<KafkaConsumer<String, byte[]>> resultReaders,
               PayloadSealing sealing, Function<String, Optional<JobState>> states, BiFunction<String, Instant, Optional<JobResult>> results) {
        this.producer = producer;
        this.registry = registry;
        this.bootstrap = bootstrap;
        this.sendNow = sendNow;
        this.resultReaders = resultReaders;
        this.sealing = sealing;
        this.states = states;
        this.results = results;
        this.eventSerializer = new AvroSerializer<>(registry);
        this.stateSerializer = new AvroSerializer<>(registry);
    }

    Event event(String function, byte[] payload, String contentType) {
        return Event.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setFunction(function)
                .setSource(EventSource.MANUAL)
                .setPayload(ByteBuffer.wrap(payload))
                .setContentType(contentType)
                .setCreatedAt(Instant.now())
                .build();
    }

    CompletableFuture<JobResult> invokeAsync(Event event, Resend resend) {
        ProducerRecord<String, byte[]> record = eventRecord(event, resend); // before awaiting: an event that cannot be written leaves no waiter
        CompletableFuture<JobResult> result = waiter().await(event.getId());
        producer.send(record,
                (metadata, error) -> {
                    if (error != null) {
                        result.completeExceptionally(new IllegalStateException("Could not write to " + Topics.EVENTS + " on "
                                + bootstrap + ": " + error.getMessage(), error));
                    }
                });
        // A retry under an idempotency key is answered as its first call was, by the job that call made.
        CompletableFuture<JobResult> answer = result.thenCompose(r -> r.getDuplicateOf() == null ? CompletableFuture.completedFuture(r)
                : resultOf(r.getDuplicateOf()));
        answer.whenComplete((r, e) -> {
            if (answer.isCancelled()) {
                result.cancel(false); // the caller gave up: its waiter goes
            }
        });
        return answer;
    }

    CompletableFuture<JobResult> awaitResult(String jobId) {
        return waiter().await(jobId);
    }

    CompletableFuture<JobResult> resultOf(String jobId) {
        CompletableFuture<JobResult> result = waiter().await(jobId); // first, so that one written during the look below is seen
        Thread.ofVirtual().name("wharf-result-of-" + jobId).start(() -> {
            try {
                Optional<JobState> ended = states.apply(jobId).filter(JobStates::isFinal);
                if (ended.isPresent()) {
                    JobState state = ended.get();
                    result.complete(results.apply(jobId, Instant.ofEpochMilli(state.getUpdatedAt())).orElseThrow(() -> new IllegalStateException(
                            "Job " + jobId + " ended " + state.getPhase() + ", but its result is no longer on " + Topics.RESULTS
                                    + " (past its retention)")));
                }
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    void send(Event event) {
        sendNow.accept(eventRecord(event, Resend.POSSIBLE));
    }

    private ProducerRecord<String, byte[]> eventRecord(Event event, Resend resend) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.EVENTS, event.getFunction(),
                eventSerializer.serialize(Topics.EVENTS, sealing.seal(event)));
        if (resend == Resend.NEVER) {
            record.headers().add(Topics.SENT_ONCE_HEADER, new byte[0]);
        }
        return record;
    }

    void submit(Event event, Resend resend) {
        sendNow.accept(new ProducerRecord<>(Topics.STATUS, event.getId(), stateSerializer.serialize(Topics.STATUS,
                JobStates.of(event, System.currentTimeMillis()))));
        sendNow.accept(eventRecord(event, resend));
    }

    JobResult invoke(Event event, Duration timeout) throws TimeoutException {
        CompletableFuture<JobResult> result = invokeAsync(event, Resend.POSSIBLE);
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            result.cancel(false);
            throw new TimeoutException("No result for job " + event.getId() + " within " + timeout.toSeconds()
                    + " s: is a worker running for the function's pool? (`wharf results --follow` shows results as they arrive)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for job " + event.getId(), e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    int invokeAll(List<Event> events, Duration timeout) {
        List<CompletableFuture<JobResult>> pending = events.stream().map(e -> invokeAsync(e, Resend.POSSIBLE)).toList();
        producer.flush();
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // counted below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int arrived = (int) pending.stream().filter(f -> f.isDone() && !f.isCompletedExceptionally()).count();
        pending.forEach(f -> f.cancel(false));
        return arrived;
    }

    private synchronized ResultWaiter waiter() {
        if (waiter == null) {
            waiter = new ResultWaiter(resultReaders, new AvroDeserializer<>(registry, JobResult.class));
        }
        return waiter;
    }

    @Override
    public synchronized void close() {
        if (waiter != null) {
            waiter.close();
        }
    }
}
