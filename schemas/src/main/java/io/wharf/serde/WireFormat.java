package io.wharf.serde;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import org.apache.kafka.common.errors.SerializationException;

/** The Confluent wire format's five-byte header: magic byte 0 and a big-endian schema id. */
public final class WireFormat {
    public static final byte MAGIC = 0;
    public static final int HEADER_SIZE = 5;

    private WireFormat() {
    }

    static void writeHeader(ByteArrayOutputStream out, int schemaId) {
        out.write(MAGIC);
        out.write(schemaId >>> 24);
        out.write(schemaId >>> 16);
        out.write(schemaId >>> 8);
        out.write(schemaId);
    }

    /** Reads the header and returns the schema id; the buffer is left at the Avro body. */
    static int readHeader(ByteBuffer buffer, String topic) {
        if (buffer.remaining() < HEADER_SIZE) {
            throw new SerializationException("Record of " + buffer.remaining() + " bytes on topic " + topic
                    + " is too short for the schema-registry wire format (magic byte 0 and a 4-byte schema id, then Avro)");
        }
        byte magic = buffer.get();
        if (magic != MAGIC) {
            throw new SerializationException("Record on topic " + topic + " starts with byte " + magic
                    + ", not the wire format's magic byte 0: produce it with io.wharf.serde.AvroSerializer or another Confluent-format Avro serializer");
        }
        return buffer.getInt();
    }
}
