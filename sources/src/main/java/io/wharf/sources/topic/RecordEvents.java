package io.wharf.sources.topic;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.RecordFormat;
import io.wharf.records.Trigger;
import io.wharf.rules.Triggers;
import io.wharf.sources.topic.RecordValues.BadRecord;

/**
 * A trigger's records as events: one event per record (its value the payload, its key the event's key, its headers
 * and where it came from the event's headers), or, with a batch size, one event per batch whose payload is a JSON array
 * of the records. Ids are the trigger's (name and creation) and the first record's partition and offset, so that the
 * same record read again makes the same event. A record the trigger cannot take is a {@link Reject} with the reason.
 */
final class RecordEvents {
    static final String TRIGGER_HEADER = "wharf-trigger";
    static final String TOPIC_HEADER = "wharf-topic";
    static final String PARTITION_HEADER = "wharf-partition";
    static final String OFFSET_HEADER = "wharf-offset";
    static final String TIMESTAMP_HEADER = "wharf-timestamp";
    static final String RECORDS_HEADER = "wharf-records";

    /** What becomes of records: an event to send, carrying how many records it holds... */
    sealed interface Out permits Emit, Reject {
    }

    record Emit(Event event, int records) implements Out {
    }

    /** ... or a record for the dead-letter topic, with why. */
    record Reject(ConsumerRecord<byte[], byte[]> record, String reason) implements Out {
    }

    private final Trigger trigger;
    private final RecordValues values;
    private final ObjectMapper mapper;
    private final Triggers.KeyFrom keyFrom;
    private final int payloadBudget;
    private final String idPrefix;

    /** {@code payloadBudget}: the largest payload an event may carry on wharf.events. */
    RecordEvents(Trigger trigger, RecordValues values, ObjectMapper mapper, int payloadBudget) {
        this.trigger = trigger;
        this.values = values;
        this.mapper = mapper;
        this.keyFrom = Triggers.KeyFrom.parse(trigger.getTopic().getKeyFrom());
        this.payloadBudget = payloadBudget;
        this.idPrefix = Triggers.instance(trigger) + "-";
    }

    /** The events of {@code records}, in their order: one each, or batches of them as the trigger says. */
    List<Out> events(List<ConsumerRecord<byte[], byte[]>> records, Instant now) {
        return trigger.getTopic().getBatchSize() > 1 ? batch(records, now) : records.stream().map(r -> single(r, now)).toList();
    }

    private Out single(ConsumerRecord<byte[], byte[]> record, Instant now) {
        try {
            byte[] payload = values.payload(record.topic(), record.value());
            if (payload.length > payloadBudget) {
                return tooLarge(record, payload.length);
            }
            Map<String, String> headers = headers(record);
            headers.put(TRIGGER_HEADER, trigger.getName());
            return new Emit(event(record, payload, values.contentType(), key(record), headers, now), 1);
        } catch (BadRecord e) {
            return new Reject(record, e.getMessage());
        }
    }

    /** Records in arrays of at most the batch size, a new one begun early where the next would not fit wharf.events. */
    private List<Out> batch(List<ConsumerRecord<byte[], byte[]>> records, Instant now) {
        List<Out> out = new ArrayList<>();
        Batch open = null;
        for (ConsumerRecord<byte[], byte[]> record : records) {
            byte[] element;
            try {
                element = element(record);
            } catch (BadRecord e) {
                out.add(new Reject(record, e.getMessage()));
                continue;
            }
            if (element.length + 2 > payloadBudget) {
                out.add(tooLarge(record, element.length));
                continue;
            }
            if (open != null && (open.count == trigger.getTopic().getBatchSize() || open.size() + 1 + element.length > payloadBudget)) {
                out.add(open.emit(now));
                open = null;
            }
            if (open == null) {
                open = new Batch(record);
            }
            open.add(element);
        }
        if (open != null) {
            out.add(open.emit(now));
        }
        return out;
    }

    private final class Batch {
        private final ConsumerRecord<byte[], byte[]> first;
        private final ByteArrayOutputStream json = new ByteArrayOutputStream();
        private int count;

        Batch(ConsumerRecord<byte[], byte[]> first) {
            this.first = first;
            json.write('[');
        }

        void add(byte[] element) {
            if (count > 0) {
                json.write(',');
            }
            json.writeBytes(element);
            count++;
        }

        int size() {
            return json.size() + 1;
        }

        Emit emit(Instant now) {
            json.write(']');
            Map<String, String> headers = new HashMap<>();
            headers.put(TRIGGER_HEADER, trigger.getName());
            headers.put(TOPIC_HEADER, first.topic());
            headers.put(RECORDS_HEADER, String.valueOf(count));
            return new Emit(event(first, json.toByteArray(), RecordValues.JSON_TYPE, null, headers, now), count);
        }
    }

    /** One record as an element of a batch: where it came from, its key and headers, and its value. */
    private byte[] element(ConsumerRecord<byte[], byte[]> record) throws BadRecord {
        ObjectNode element = mapper.createObjectNode();
        element.put("topic", record.topic());
        element.put("partition", record.partition());
        element.put("offset", record.offset());
        element.put("timestamp", record.timestamp());
        String key = record.key() == null ? null : text(record.key());
        element.put("key", key);
        ObjectNode headers = element.putObject("headers");
        for (Header header : record.headers()) {
            headers.put(header.key(), header.value() == null ? "" : text(header.value()));
        }
        values.putValue(element, record.topic(), record.value());
        try {
            return mapper.writeValueAsBytes(element);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Event event(ConsumerRecord<byte[], byte[]> first, byte[] payload, String contentType, String key, Map<String, String> headers,
                        Instant now) {
        return Event.newBuilder()
                .setId(idPrefix + first.partition() + "-" + first.offset())
                .setTenant(trigger.getTenant())
                .setFunction(trigger.getFunction())
                .setSource(EventSource.STREAM)
                .setKey(key)
                .setPayload(ByteBuffer.wrap(payload))
                .setContentType(contentType)
                .setHeaders(headers)
                .setCreatedAt(now)
                .build();
    }

    /** The record's headers (as text; base64 where a value is not UTF-8) and where it came from. */
    private static Map<String, String> headers(ConsumerRecord<byte[], byte[]> record) {
        Map<String, String> headers = new HashMap<>();
        for (Header header : record.headers()) {
            headers.put(header.key(), header.value() == null ? "" : text(header.value()));
        }
        headers.put(TOPIC_HEADER, record.topic());
        headers.put(PARTITION_HEADER, String.valueOf(record.partition()));
        headers.put(OFFSET_HEADER, String.valueOf(record.offset()));
        headers.put(TIMESTAMP_HEADER, Instant.ofEpochMilli(record.timestamp()).toString());
        return headers;
    }

    private String key(ConsumerRecord<byte[], byte[]> record) throws BadRecord {
        return switch (keyFrom.kind()) {
            case NONE -> null;
            case KEY -> record.key() == null ? null : text(record.key());
            case HEADER -> {
                Header header = record.headers().lastHeader(keyFrom.name());
                yield header == null || header.value() == null ? null : text(header.value());
            }
            case JSON -> {
                JsonNode tree = trigger.getTopic().getFormat() == RecordFormat.RAW
                        ? new RecordValues(RecordFormat.JSON, null, mapper).tree(record.topic(), record.value())
                        : values.tree(record.topic(), record.value());
                JsonNode at = tree.at(JsonPointer.compile(keyFrom.name()));
                yield at.isMissingNode() || at.isNull() ? null : at.isValueNode() ? at.asText() : at.toString();
            }
        };
    }

    private Reject tooLarge(ConsumerRecord<byte[], byte[]> record, int bytes) {
        return new Reject(record, "The record's value makes a payload of " + bytes + " bytes, over the " + payloadBudget
                + " bytes an event on wharf.events may carry: raise wharf.events' max.message.bytes, or send such records a smaller way "
                + "(a reference to where the data is)");
    }

    private static String text(byte[] bytes) {
        String text = RecordValues.utf8(bytes);
        return text != null ? text : Base64.getEncoder().encodeToString(bytes);
    }
}
