package io.wharf.sources.topic;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.wharf.records.RecordFormat;
import io.wharf.serde.GenericAvroReader;
import io.wharf.serde.RecordJson;

/**
 * A record's value read by its trigger's format: the bytes themselves (RAW), checked JSON (JSON), or Avro in the
 * registry's wire format turned into JSON (AVRO). A value that is not what the format says is a {@link BadRecord}.
 */
final class RecordValues {
    static final String JSON_TYPE = "application/json";
    static final String RAW_TYPE = "application/octet-stream";

    private final RecordFormat format;
    private final GenericAvroReader avro;
    private final ObjectMapper mapper;

    RecordValues(RecordFormat format, GenericAvroReader avro, ObjectMapper mapper) {
        this.format = format;
        this.avro = avro;
        this.mapper = mapper;
    }

    /** A value the trigger cannot take, and why: it goes to the dead-letter topic, and the records after it go on. */
    static final class BadRecord extends Exception {
        BadRecord(String reason) {
            super(reason, null, false, false);
        }
    }

    /** The content type of one record's event. */
    String contentType() {
        return format == RecordFormat.RAW ? RAW_TYPE : JSON_TYPE;
    }

    /** One record's value as its event's payload. */
    byte[] payload(String topic, byte[] value) throws BadRecord {
        return switch (format) {
            case RAW -> value == null ? new byte[0] : value;
            case JSON -> {
                tree(topic, value); // checked, then handed on as it came
                yield value;
            }
            case AVRO -> write(tree(topic, value));
        };
    }

    /** One record's value as an element of a batch: JSON as such, raw bytes as text (or base64 when they are not UTF-8). */
    void putValue(ObjectNode element, String topic, byte[] value) throws BadRecord {
        if (format != RecordFormat.RAW) {
            element.set("value", tree(topic, value));
        } else if (value == null) {
            element.putNull("value");
        } else {
            String text = utf8(value);
            if (text != null) {
                element.put("value", text);
            } else {
                element.put("valueBase64", Base64.getEncoder().encodeToString(value));
            }
        }
    }

    /** The value as JSON (JSON and AVRO formats). */
    JsonNode tree(String topic, byte[] value) throws BadRecord {
        if (value == null) {
            throw new BadRecord("The record has no value (a tombstone); a " + format + " trigger needs one");
        }
        if (format == RecordFormat.AVRO) {
            try {
                return mapper.valueToTree(RecordJson.value(avro.read(topic, value)));
            } catch (io.wharf.serde.SchemaRegistryException e) {
                if (e.unavailable()) {
                    throw e; // the record is fine, the registry is away: the batch is tried again
                }
                throw new BadRecord(e.getMessage());
            } catch (org.apache.kafka.common.errors.SerializationException e) {
                throw new BadRecord(e.getMessage() + " (is the trigger's format right? --format avro reads the registry's wire format)");
            }
        }
        try {
            return mapper.readTree(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadRecord("The value is not JSON (" + e.getOriginalMessage() + "): produce JSON, or make the trigger --format raw");
        } catch (java.io.IOException e) {
            throw new BadRecord("The value is not JSON (" + e.getMessage() + "): produce JSON, or make the trigger --format raw");
        }
    }

    private byte[] write(JsonNode tree) {
        try {
            return mapper.writeValueAsBytes(tree);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
