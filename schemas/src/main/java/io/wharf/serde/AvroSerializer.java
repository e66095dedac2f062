package io.wharf.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro specific records in the Confluent wire format: magic byte 0, the writer schema's registry id
 * (4 bytes, big-endian), then Avro binary. The schema is registered under {@code <topic>-value} (or
 * {@code -key}) on first use and its id cached.
 */
public class AvroSerializer<T extends SpecificRecord> implements Serializer<T> {
    private SchemaRegistryClient registry;
    private boolean isKey;
    private final Map<Schema, DatumWriter<T>> writers = new ConcurrentHashMap<>();
    private final Function<Schema, DatumWriter<T>> writerFactory;

    /** For Kafka, which configures it through {@link #configure}. */
    public AvroSerializer() {
        this.writerFactory = SpecificDatumWriter::new;
    }

    public AvroSerializer(SchemaRegistryClient registry) {
        this(registry, SpecificDatumWriter::new);
    }

    /** With a writer of one's own, e.g. one that reuses the encoding of a nested record it has seen before. */
    public AvroSerializer(SchemaRegistryClient registry, Function<Schema, DatumWriter<T>> writerFactory) {
        this.registry = registry;
        this.writerFactory = writerFactory;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
        if (registry == null) {
            registry = SchemaRegistryClients.forSettings(new AvroSerdeConfig(configs).registry());
        }
    }

    /** The registry subject of a topic's keys or values under the topic-name strategy, as Confluent's serializers name it. */
    public static String subject(String topic, boolean isKey) {
        return topic + (isKey ? "-key" : "-value");
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        if (registry == null) {
            throw new SerializationException("AvroSerializer is not configured: set " + AvroSerdeConfig.REGISTRY_URL_CONFIG + " or pass a SchemaRegistryClient");
        }
        Schema schema = record.getSchema();
        int id = registry.register(subject(topic, isKey), schema);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            WireFormat.writeHeader(out, id);
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            writers.computeIfAbsent(schema, writerFactory).write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Could not write " + schema.getFullName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
    }

}
