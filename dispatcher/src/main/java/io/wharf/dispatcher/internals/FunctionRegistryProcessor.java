package io.wharf.dispatcher.internals;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobStatus;
import io.wharf.rules.FunctionRules;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.Topics;

/**
 * Keeps this task's function store in step with {@code wharf.functions}: a record deploys or updates a
 * function, a tombstone deletes it. The store holds the record's bytes as written, so it is decoded only once
 * here (to validate it) and again when an event needs it. A record written to another partition than its name's
 * (a client with another partitioner) is first moved there, as events are.
 */
public final class FunctionRegistryProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger log = LoggerFactory.getLogger(FunctionRegistryProcessor.class);

    private final AvroDeserializer<FunctionSpec> deserializer;
    private final Placement placement;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, byte[]> functions;

    public FunctionRegistryProcessor(SchemaRegistryClient registry, Placement placement) {
        this.deserializer = new AvroDeserializer<>(registry, FunctionSpec.class);
        this.placement = placement;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.functions = context.getStateStore(Names.FUNCTION_STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String name = record.key();
        if (name == null) {
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), null, JobStatus.REJECTED,
                    "A wharf.functions record has no key: the key must be the function name");
            return;
        }
        if (placement.moveIfMisplaced(context, record, name, Names.FUNCTIONS_REROUTE_SINK)) {
            return; // its events go to the task that owns its name: the definition must be there too
        }
        if (record.value() == null) {
            functions.delete(name);
            log.info("Function {} deleted", name);
            return;
        }
        FunctionSpec spec;
        try {
            spec = deserializer.deserialize(context.recordMetadata().orElseThrow().topic(), record.value());
        } catch (RuntimeException e) {
            if (SchemaRegistryException.isUnavailable(e)) {
                throw e;
            }
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), name, JobStatus.REJECTED,
                    "Function record for '" + name + "' could not be decoded, the previous definition stays: " + e.getMessage());
            return;
        }
        if (!name.equals(spec.getName())) {
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), name, JobStatus.REJECTED,
                    "Function record keyed '" + name + "' names function '" + spec.getName() + "': key and name must be equal");
            return;
        }
        java.util.Optional<String> violation = FunctionRules.violation(spec);
        if (violation.isPresent()) {
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), name, JobStatus.REJECTED,
                    "Function '" + name + "' refused, the previous definition stays: " + violation.get());
            return;
        }
        functions.put(name, record.value());
        log.info("Function {} deployed (image {}, pool {})", name, spec.getImageDigest() != null ? spec.getImageDigest() : spec.getImage(), spec.getPool());
    }
}
