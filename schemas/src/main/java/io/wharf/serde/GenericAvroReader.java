package io.wharf.serde;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Reads records of any schema in the registry's wire format (a user's topic, not Wharf's records) as generic Avro
 * values, each with the schema it was written with.
 */
public final class GenericAvroReader {
    private final SchemaRegistryClient registry;
    private final Map<Integer, GenericDatumReader<Object>> readers = new ConcurrentHashMap<>();

    public GenericAvroReader(SchemaRegistryClient registry) {
        this.registry = registry;
    }

    /**
     * @throws SerializationException naming the topic and what is wrong with the bytes
     * @throws SchemaRegistryException when the registry cannot give the schema (see {@link SchemaRegistryException#unavailable()})
     */
    public Object read(String topic, byte[] data) {
        ByteBuffer buffer = ByteBuffer.wrap(data);
        int id = WireFormat.readHeader(buffer, topic);
        GenericDatumReader<Object> reader = readers.computeIfAbsent(id, schemaId -> {
            Schema writer = registry.schemaById(schemaId);
            return new GenericDatumReader<>(writer);
        });
        try {
            return reader.read(null, DecoderFactory.get().binaryDecoder(data, buffer.position(), buffer.remaining(), null));
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("Record of " + data.length + " bytes on topic " + topic + " with schema id " + id
                    + " is not valid Avro for that schema: " + e, e);
        }
    }
}
