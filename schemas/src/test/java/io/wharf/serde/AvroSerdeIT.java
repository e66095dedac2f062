package io.wharf.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

import io.apicurio.registry.serde.SerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerdeConfig;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.wharf.records.Event;
import io.wharf.embedded.SchemaRegistryProcess;
import io.wharf.testkit.SharedServices;

/** The serde against a real registry (Apicurio's Confluent-compatible API) and against Apicurio's own serde. */
class AvroSerdeIT {
    private final SchemaRegistryProcess registry = SharedServices.registry();

    @Test
    void shouldRoundTripThroughTheRealRegistryByClassName() {
        String topic = "serde-it-" + UUID.randomUUID();
        Map<String, Object> config = Map.of(AvroSerdeConfig.REGISTRY_URL_CONFIG, registry.confluentUrl());
        try (AvroSerializer<Event> serializer = new AvroSerializer<>(); AvroDeserializer<Event> deserializer = new AvroDeserializer<>()) {
            serializer.configure(config, false);
            deserializer.configure(config, false);
            byte[] bytes = serializer.serialize(topic, Records.event("e1"));
            assertThat(deserializer.deserialize(topic, bytes)).isEqualTo(Records.event("e1"));
        }
    }

    @Test
    void shouldRegisterSubjectsUnderBackwardCompatibility() {
        HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(registry.confluentUrl());
        String subject = "compat-it-" + UUID.randomUUID() + "-value";
        client.register(subject, SchemaBuilder.record("Thing").fields().requiredInt("x").endRecord());
        Schema incompatible = SchemaBuilder.record("Thing").fields().requiredInt("x").requiredString("y").endRecord();
        assertThatThrownBy(() -> client.register(subject, incompatible))
                .isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining("409");
        Schema compatible = SchemaBuilder.record("Thing").fields().requiredInt("x").name("y").type().stringType().stringDefault("").endRecord();
        assertThat(client.register(subject, compatible)).isPositive();
    }

    @Test
    void theRegistryTakesEventAndJobWithTheHttpRequestOverTheirEarlierVersions() {
        HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(registry.confluentUrl());
        for (Schema current : java.util.List.of(Event.getClassSchema(), io.wharf.records.Job.getClassSchema())) {
            String subject = "http-compat-" + UUID.randomUUID() + "-value";
            int before = client.register(subject, RecordCompatibilityTest.without(current, "http"));
            assertThat(client.register(subject, current)).as(current.getName() + " under BACKWARD").isPositive().isNotEqualTo(before);
        }
    }

    @Test
    void shouldNameTheRegistryWhenItCannotBeReached() {
        HttpSchemaRegistryClient client = new HttpSchemaRegistryClient("http://127.0.0.1:1/apis/ccompat/v7");
        assertThatThrownBy(() -> client.schemaById(1))
                .isInstanceOf(SchemaRegistryException.class)
                .hasMessageContaining("127.0.0.1:1")
                .hasMessageContaining(AvroSerdeConfig.REGISTRY_URL_CONFIG);
    }

    @Test
    void shouldWriteTheSameBytesAsApicuriosSerdeInConfluentFormatAndReadEachOther() {
        String topic = "apicurio-compat-" + UUID.randomUUID();
        Event event = Records.event("same-bytes");

        HttpSchemaRegistryClient client = new HttpSchemaRegistryClient(registry.confluentUrl());
        byte[] ours = new AvroSerializer<Event>(client).serialize(topic, event);

        Map<String, Object> apicurioConfig = new HashMap<>();
        apicurioConfig.put(SerdeConfig.REGISTRY_URL, registry.apicurioUrl());
        apicurioConfig.put(SerdeConfig.AUTO_REGISTER_ARTIFACT, true);
        apicurioConfig.put(SerdeConfig.ENABLE_CONFLUENT_ID_HANDLER, true);
        apicurioConfig.put(SerdeConfig.USE_ID, "contentId");
        apicurioConfig.put(SerdeConfig.ENABLE_HEADERS, false);
        apicurioConfig.put(AvroKafkaSerdeConfig.USE_SPECIFIC_AVRO_READER, true);
        try (AvroKafkaSerializer<Event> theirSerializer = new AvroKafkaSerializer<>();
             AvroKafkaDeserializer<Event> theirDeserializer = new AvroKafkaDeserializer<>()) {
            theirSerializer.configure(apicurioConfig, false);
            theirDeserializer.configure(apicurioConfig, false);
            byte[] theirs = theirSerializer.serialize(topic, event);

            assertThat(ours).isEqualTo(theirs);
            assertThat(theirDeserializer.deserialize(topic, ours)).isEqualTo(event);
            assertThat(new AvroDeserializer<>(client, Event.class).deserialize(topic, theirs)).isEqualTo(event);
        }
    }
}
