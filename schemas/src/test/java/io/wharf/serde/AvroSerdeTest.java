package io.wharf.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import io.wharf.records.Event;

class AvroSerdeTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final AvroSerializer<Event> serializer = new AvroSerializer<>(registry);
    private final AvroDeserializer<Event> deserializer = new AvroDeserializer<>(registry, Event.class);

    @Test
    void shouldWriteMagicByteAndSchemaIdThenAvro() {
        byte[] bytes = serializer.serialize("wharf.events", Records.event("e1"));

        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        assertThat(buffer.get()).isEqualTo((byte) 0);
        int id = buffer.getInt();
        assertThat(registry.schemaById(id)).isEqualTo(Event.getClassSchema());
        assertThat(deserializer.deserialize("wharf.events", bytes)).isEqualTo(Records.event("e1"));
    }

    @Test
    void shouldDecodeIntoTheClassNamedByTheWriterSchemaWhenNoTypeIsGiven() {
        byte[] bytes = serializer.serialize("wharf.events", Records.event("e2"));
        AvroDeserializer<Event> untyped = new AvroDeserializer<>(registry, null);
        assertThat(untyped.deserialize("wharf.events", bytes)).isEqualTo(Records.event("e2"));
    }

    @Test
    void shouldRejectBytesWithoutTheWireFormatNamingTheProblem() {
        assertThatThrownBy(() -> deserializer.deserialize("wharf.events", "{\"json\":true}".getBytes()))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("magic byte 0");
        assertThatThrownBy(() -> deserializer.deserialize("wharf.events", new byte[] {0, 0}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("too short");
    }

    @Test
    void shouldRejectAnUnknownSchemaId() {
        assertThatThrownBy(() -> deserializer.deserialize("wharf.events", new byte[] {0, 0, 0, 0, 99, 1}))
                .isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining("99");
    }

    @Test
    void shouldRefuseABackwardIncompatibleSchemaForASubject() {
        Schema v1 = SchemaBuilder.record("Thing").fields().requiredInt("x").endRecord();
        Schema v2 = SchemaBuilder.record("Thing").fields().requiredInt("x").requiredString("y").endRecord();
        Schema v3 = SchemaBuilder.record("Thing").fields().requiredInt("x").name("z").type().stringType().stringDefault("").endRecord();
        registry.register("things-value", v1);
        assertThatThrownBy(() -> registry.register("things-value", v2)).hasMessageContaining("BACKWARD");
        assertThat(registry.register("things-value", v3)).isPositive();
    }
}
