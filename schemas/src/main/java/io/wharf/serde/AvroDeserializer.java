package io.wharf.serde;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads the Confluent wire format into Avro specific records. The writer schema comes from the registry by
 * id; the reader schema is that of {@code type} (or, when none is given, of the generated class named like the
 * writer schema), so records written with an older or newer compatible schema still decode.
 */
public class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
    private SchemaRegistryClient registry;
    private final Class<T> type;
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

    /** For Kafka, which configures it through {@link #configure}; decodes into the class named by the writer schema. */
    public AvroDeserializer() {
        this(null, null);
    }

    public AvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
        this.registry = registry;
        this.type = type;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (registry == null) {
            registry = SchemaRegistryClients.forSettings(new AvroSerdeConfig(configs).registry());
        }
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new SerializationException("AvroDeserializer is not configured: set " + AvroSerdeConfig.REGISTRY_URL_CONFIG + " or pass a SchemaRegistryClient");
        }
        ByteBuffer buffer = ByteBuffer.wrap(data);
        int id = WireFormat.readHeader(buffer, topic);
        try {
            DatumReader<T> reader = readers.computeIfAbsent(id, this::readerFor);
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, buffer.position(), buffer.remaining(), null);
            return reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            if (e instanceof SchemaRegistryException sre) {
                if (sre.unavailable()) {
                    throw sre; // the same record may decode once the registry answers: the caller retries
                }
                throw new SchemaRegistryException("Record of " + data.length + " bytes on topic " + topic + " names schema id " + id
                        + ", which the registry cannot give: " + sre.getMessage(), sre);
            }
            throw new SerializationException("Record of " + data.length + " bytes on topic " + topic + " with schema id " + id
                    + " is not valid Avro for that schema: " + e, e);
        }
    }

    @SuppressWarnings("unchecked")
    private DatumReader<T> readerFor(int id) {
        Schema writer = registry.schemaById(id);
        Schema reader;
        if (type != null) {
            reader = SpecificData.get().getSchema(type);
        } else {
            Class<?> generated = SpecificData.get().getClass(writer);
            if (generated == null) {
                throw new SerializationException("Schema id " + id + " is " + writer.getFullName()
                        + ", which has no generated class on the classpath: pass the record class to AvroDeserializer");
            }
            reader = SpecificData.get().getSchema(generated);
        }
        if (type != null && !writer.getFullName().equals(reader.getFullName())) {
            throw new SerializationException("Schema id " + id + " is " + writer.getFullName() + ", not the expected " + reader.getFullName());
        }
        return new SpecificDatumReader<T>(writer, reader);
    }
}
