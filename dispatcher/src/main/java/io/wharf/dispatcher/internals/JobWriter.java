package io.wharf.dispatcher.internals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.IdentityHashMap;
import java.util.Map;

import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

import io.wharf.records.FunctionSpec;

/**
 * Writes jobs, encoding each function snapshot once: every job carries its function's spec, which is most of
 * its bytes, and the dispatcher hands out the same spec instance until the function changes. Avro binary is a
 * concatenation of field encodings, so a cached spec encoding is written as is.
 */
public final class JobWriter<T> extends SpecificDatumWriter<T> {
    private static final int MAX_CACHED = 1024;
    private final Map<FunctionSpec, byte[]> encoded = new IdentityHashMap<>();
    private final SpecificDatumWriter<FunctionSpec> specs = new SpecificDatumWriter<>(FunctionSpec.class);

    public JobWriter(Schema schema) {
        super(schema);
    }

    @Override
    protected void writeRecord(Schema schema, Object datum, Encoder out) throws IOException {
        if (datum instanceof FunctionSpec spec && schema.getFullName().equals(FunctionSpec.getClassSchema().getFullName())) {
            out.writeFixed(encode(spec));
        } else {
            super.writeRecord(schema, datum, out);
        }
    }

    private synchronized byte[] encode(FunctionSpec spec) {
        byte[] bytes = encoded.get(spec);
        if (bytes == null) {
            if (encoded.size() >= MAX_CACHED) {
                encoded.clear();
            }
            try {
                ByteArrayOutputStream buffer = new ByteArrayOutputStream(512);
                BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(buffer, null);
                specs.write(spec, encoder);
                encoder.flush();
                bytes = buffer.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            encoded.put(spec, bytes);
        }
        return bytes;
    }
}
