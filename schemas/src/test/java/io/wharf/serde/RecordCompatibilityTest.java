package io.wharf.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

import io.wharf.records.Event;
import io.wharf.records.HttpRequest;
import io.wharf.records.Job;

/** Records written before the gateway's fields joined them (the HTTP request, callbacks, HTTP ports, a final state's timings) still decode. */
class RecordCompatibilityTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    /** The schema as it was before {@code field} was added (only that field is new). */
    static Schema without(Schema schema, String field) {
        List<Schema.Field> fields = schema.getFields().stream().filter(f -> !f.name().equals(field))
                .map(f -> new Schema.Field(f, f.schema())).toList();
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }

    private byte[] write(Schema writer, GenericRecord record, String subject) throws IOException {
        int id = registry.register(subject, writer);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        WireFormat.writeHeader(out, id);
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(writer).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @Test
    void theNewSchemasAreBackwardCompatibleWithTheOldOnes() {
        for (Schema current : List.of(Event.getClassSchema(), Job.getClassSchema())) {
            assertThat(SchemaCompatibility.checkReaderWriterCompatibility(current, without(current, "http")).getType())
                    .as(current.getName()).isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        }
    }

    @Test
    void everyFieldTheGatewayAddedKeepsItsRecordBackwardCompatible() {
        Map<Schema, List<String>> added = Map.of(
                io.wharf.records.FunctionSpec.getClassSchema(), List.of("httpResponse", "webhookSecret", "httpPort"),
                Job.getClassSchema(), List.of("http", "callback"),
                io.wharf.records.JobResult.getClassSchema(), List.of("callback"),
                io.wharf.records.JobResult.getClassSchema().getField("timings").schema(), List.of("readyAt"),
                io.wharf.records.JobState.getClassSchema(), List.of("timings"));
        added.forEach((current, fields) -> {
            Schema old = current;
            for (String field : fields) {
                old = without(old, field);
            }
            assertThat(SchemaCompatibility.checkReaderWriterCompatibility(current, old).getType()).as(current.getName() + " without " + fields)
                    .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        });
        Schema sources = Event.getClassSchema().getField("source").schema();
        Schema before = Schema.createEnum(sources.getName(), sources.getDoc(), sources.getNamespace(),
                sources.getEnumSymbols().stream().filter(symbol -> !symbol.equals("HTTP")).toList(), sources.getEnumDefault());
        assertThat(SchemaCompatibility.checkReaderWriterCompatibility(sources, before).getType()).as("EventSource before HTTP")
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
    }

    @Test
    void anEventWrittenBeforeTheHttpRequestDecodesWithNone() throws IOException {
        Event now = Records.event("e-old");
        Schema old = without(Event.getClassSchema(), "http");
        GenericRecord record = new GenericData.Record(old);
        for (Schema.Field f : old.getFields()) {
            Object value = now.get(f.name());
            record.put(f.name(), value instanceof Instant t ? t.toEpochMilli() : value);
        }
        Event read = new AvroDeserializer<>(registry, Event.class).deserialize("wharf.events", write(old, record, "wharf.events-value"));
        assertThat(read.getId()).isEqualTo("e-old");
        assertThat(read.getHttp()).isNull();
        assertThat(read.getPayload()).isEqualTo(now.getPayload());

        Event withRequest = Event.newBuilder(now).setHttp(HttpRequest.newBuilder().setMethod("POST").setPath("/x").setHeaders(Map.of("a", "b")).build())
                .build();
        byte[] bytes = new AvroSerializer<Event>(registry).serialize("wharf.events", withRequest);
        assertThat(new AvroDeserializer<>(registry, Event.class).deserialize("wharf.events", bytes).getHttp().getPath()).isEqualTo("/x");
    }
}
