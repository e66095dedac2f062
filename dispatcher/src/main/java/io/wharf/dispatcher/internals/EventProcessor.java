package io.wharf.dispatcher.internals;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

import io.wharf.dispatcher.DispatcherTopology;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobStatus;
import io.wharf.records.Ordering;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * Turns each event into a job for its function's pool, or into a {@code REJECTED} result and a dead letter
 * that say why not. Nothing here throws on bad input: one bad record never stops the events behind it.
 */
public final class EventProcessor implements Processor<String, byte[], String, Object> {
    private final AvroDeserializer<Event> events;
    private final AvroDeserializer<FunctionSpec> specs;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, byte[]> functions;

    public EventProcessor(SchemaRegistryClient registry) {
        this.events = new AvroDeserializer<>(registry, Event.class);
        this.specs = new AvroDeserializer<>(registry, FunctionSpec.class);
    }

    /** The last decoded spec per function, reused while the stored bytes are unchanged (decoding is the costlier part). */
    private final Map<String, Map.Entry<byte[], FunctionSpec>> decoded = new HashMap<>();

    private FunctionSpec decodeSpec(String function, byte[] bytes) {
        Map.Entry<byte[], FunctionSpec> cached = decoded.get(function);
        if (cached != null && java.util.Arrays.equals(cached.getKey(), bytes)) {
            return cached.getValue();
        }
        FunctionSpec spec = specs.deserialize(Topics.FUNCTIONS, bytes);
        if (decoded.size() > 10_000) {
            decoded.clear();
        }
        decoded.put(function, Map.entry(bytes, spec));
        return spec;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.functions = context.getStateStore(DispatcherTopology.FUNCTION_STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        Event event;
        try {
            if (record.value() == null) {
                throw new IllegalArgumentException("the record has no value");
            }
            event = events.deserialize(Topics.EVENTS, record.value());
        } catch (RuntimeException e) {
            DeadLetters.refuse(context, record, DeadLetters.positionId(context), record.key(), JobStatus.REJECTED,
                    "Event could not be decoded: " + e.getMessage(), null);
            return;
        }
        String function = event.getFunction();
        String jobId = event.getId() == null || event.getId().isBlank() ? DeadLetters.positionId(context) : event.getId();
        long createdAt = event.getCreatedAt().toEpochMilli();
        if (function == null || function.isBlank()) {
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED, "Event " + jobId + " names no function", createdAt);
            return;
        }
        if (!function.equals(record.key())) {
            // The function's state lives in the task that owns its name; send the event there, untouched.
            context.forward(new Record<String, Object>(function, record.value(), record.timestamp(), record.headers()), DispatcherTopology.REKEY_SINK);
            return;
        }
        byte[] specBytes = functions.get(function);
        if (specBytes == null) {
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED,
                    "Unknown function '" + function + "': deploy it first (./wharf deploy " + function + " --image IMAGE)", createdAt);
            return;
        }
        FunctionSpec spec = decodeSpec(function, specBytes);
        if (!spec.getEnabled()) {
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED,
                    "Function '" + function + "' is disabled: enable it to run jobs", createdAt);
            return;
        }
        int payloadSize = event.getPayload().remaining();
        if (payloadSize > spec.getMaxPayloadBytes()) {
            DeadLetters.refuse(context, record, jobId, function, JobStatus.REJECTED,
                    "Payload of " + payloadSize + " bytes exceeds function '" + function + "''s limit of " + spec.getMaxPayloadBytes()
                            + " bytes (maxPayloadBytes)", createdAt);
            return;
        }
        long now = context.currentSystemTimeMs();
        Map<String, String> trace = new HashMap<>(event.getHeaders());
        Job job = Job.newBuilder()
                .setJobId(jobId)
                .setAttempt(1)
                .setFunction(spec)
                .setPayload(event.getPayload())
                .setContentType(event.getContentType())
                .setKey(event.getKey())
                .setEventCreatedAt(event.getCreatedAt())
                .setEnqueuedAt(Instant.ofEpochMilli(now))
                .setDeadline(spec.getMaxJobAgeMillis() == null ? null : Instant.ofEpochMilli(createdAt + spec.getMaxJobAgeMillis()))
                .setTraceContext(trace)
                .build();
        String jobKey = spec.getOrdering() == Ordering.KEY && event.getKey() != null ? event.getKey() : jobId;
        context.forward(new Record<String, Object>(jobKey, job, now), DispatcherTopology.JOBS_SINK);
    }
}
