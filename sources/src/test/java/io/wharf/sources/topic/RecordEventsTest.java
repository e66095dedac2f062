package io.wharf.sources.topic;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.RecordFormat;
import io.wharf.records.TopicSource;
import io.wharf.records.Trigger;
import io.wharf.serde.GenericAvroReader;
import io.wharf.serde.InMemorySchemaRegistryClient;

class RecordEventsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    private RecordEvents events(RecordFormat format, int batch, String keyFrom, int budget) {
        Trigger trigger = Trigger.newBuilder().setName("orders").setFunction("ship").setCreatedAt(Instant.ofEpochMilli(36 * 36))
                .setUpdatedAt(NOW).setTopic(TopicSource.newBuilder().setTopic("orders").setFormat(format).setBatchSize(batch)
                        .setKeyFrom(keyFrom).build()).build();
        return new RecordEvents(trigger, new RecordValues(format, new GenericAvroReader(registry), JSON), JSON, budget);
    }

    private static ConsumerRecord<byte[], byte[]> record(long offset, String key, String value) {
        return new ConsumerRecord<>("orders", 2, offset, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    private static Event event(RecordEvents.Out out) {
        assertThat(out).isInstanceOf(RecordEvents.Emit.class);
        return ((RecordEvents.Emit) out).event();
    }

    @Test
    void aRecordBecomesAnEventWithItsValueKeyAndWhereItCameFrom() {
        ConsumerRecord<byte[], byte[]> record = record(41, "customer-7", "ship it");
        record.headers().add("source-app", "web".getBytes(StandardCharsets.UTF_8));

        Event event = event(events(RecordFormat.RAW, 1, "key", 1000).events(List.of(record), NOW).getFirst());

        assertThat(event.getId()).isEqualTo("orders-100-2-41"); // name, creation in base 36, partition, offset
        assertThat(event.getFunction()).isEqualTo("ship");
        assertThat(event.getSource()).isEqualTo(EventSource.STREAM);
        assertThat(event.getKey()).isEqualTo("customer-7");
        assertThat(StandardCharsets.UTF_8.decode(event.getPayload()).toString()).isEqualTo("ship it");
        assertThat(event.getContentType()).isEqualTo("application/octet-stream");
        assertThat(event.getHeaders()).containsEntry("source-app", "web").containsEntry("wharf-trigger", "orders")
                .containsEntry("wharf-topic", "orders").containsEntry("wharf-partition", "2").containsEntry("wharf-offset", "41");
    }

    @Test
    void theKeyMayComeFromAHeaderOrFromTheValue() {
        ConsumerRecord<byte[], byte[]> record = record(1, "k", "{\"order\": {\"id\": 99}}");
        record.headers().add("tenant", "acme".getBytes(StandardCharsets.UTF_8));

        assertThat(event(events(RecordFormat.JSON, 1, "json:/order/id", 1000).events(List.of(record), NOW).getFirst()).getKey()).isEqualTo("99");
        assertThat(event(events(RecordFormat.RAW, 1, "header:tenant", 1000).events(List.of(record), NOW).getFirst()).getKey()).isEqualTo("acme");
        assertThat(event(events(RecordFormat.RAW, 1, "none", 1000).events(List.of(record), NOW).getFirst()).getKey()).isNull();
    }

    @Test
    void aValueNotOfTheFormatOrTooLargeIsRejectedWithTheReason() {
        List<RecordEvents.Out> outs = events(RecordFormat.JSON, 1, "key", 20)
                .events(List.of(record(1, "a", "{oops"), record(2, "b", "{\"a\": \"" + "x".repeat(40) + "\"}"), record(3, "c", "{}")), NOW);

        assertThat(outs).hasSize(3);
        assertThat(((RecordEvents.Reject) outs.get(0)).reason()).contains("not JSON").contains("--format raw");
        assertThat(((RecordEvents.Reject) outs.get(1)).reason()).contains("over the 20 bytes");
        assertThat(event(outs.get(2)).getContentType()).isEqualTo("application/json");
    }

    @Test
    void batchesHoldAtMostTheirSizeAndEndEarlyWhereTheNextWouldNotFit() throws Exception {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            records.add(record(i, "k" + i, "{\"n\": " + i + "}"));
        }
        List<RecordEvents.Out> outs = events(RecordFormat.JSON, 3, "key", 100_000).events(records, NOW);
        assertThat(outs).hasSize(3);
        JsonNode first = JSON.readTree(event(outs.getFirst()).getPayload().array());
        assertThat(first.size()).isEqualTo(3);
        assertThat(first.get(0).get("key").asText()).isEqualTo("k0");
        assertThat(first.get(0).at("/value/n").asInt()).isZero();
        assertThat(first.get(0).get("offset").asLong()).isZero();
        assertThat(event(outs.getFirst()).getHeaders()).containsEntry("wharf-records", "3");
        assertThat(((RecordEvents.Emit) outs.get(2)).records()).isEqualTo(1);

        int oneElement = JSON.writeValueAsBytes(JSON.readTree(event(outs.getFirst()).getPayload().array()).get(0)).length;
        List<RecordEvents.Out> small = events(RecordFormat.JSON, 3, "key", 2 * oneElement + 3).events(records, NOW);
        assertThat(small).hasSize(4).allSatisfy(out -> assertThat(((RecordEvents.Emit) out).records()).isLessThanOrEqualTo(2));
    }

    @Test
    void rawValuesInABatchAreTextOrBase64AndAvroValuesAreJson() throws Exception {
        List<RecordEvents.Out> raw = events(RecordFormat.RAW, 10, "key", 100_000).events(List.of(record(0, null, "plain"),
                new ConsumerRecord<>("orders", 2, 1, null, new byte[] {(byte) 0xff, 0})), NOW);
        JsonNode array = JSON.readTree(event(raw.getFirst()).getPayload().array());
        assertThat(array.get(0).get("value").asText()).isEqualTo("plain");
        assertThat(array.get(1).get("valueBase64").asText()).isEqualTo("/wA=");

        Schema schema = SchemaBuilder.record("Order").fields().requiredString("id").requiredDouble("amount")
                .name("status").type().enumeration("Status").symbols("NEW", "PAID").noDefault().endRecord();
        int id = registry.register("orders-value", schema);
        GenericData.Record order = new GenericData.Record(schema);
        order.put("id", "o-1");
        order.put("amount", 12.5);
        order.put("status", new GenericData.EnumSymbol(schema.getField("status").schema(), "PAID"));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        bytes.write(0);
        bytes.write(java.nio.ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericData.Record>(schema).write(order, encoder);
        encoder.flush();

        Event event = event(events(RecordFormat.AVRO, 1, "key", 100_000)
                .events(List.of(new ConsumerRecord<>("orders", 0, 0, null, bytes.toByteArray())), NOW).getFirst());
        assertThat(JSON.readTree(event.getPayload().array())).isEqualTo(JSON.readTree("{\"id\": \"o-1\", \"amount\": 12.5, \"status\": \"PAID\"}"));
        assertThat(event.getContentType()).isEqualTo("application/json");
    }
}
