package io.wharf.sources.database;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.Trigger;

/**
 * A row change, as Debezium writes it in JSON, as an event: its payload {@code {"operation", "op", "table", "before",
 * "after", "lsn", "txId", "committedAt"}}, its key the row's key (so a function with {@code ordering: key} runs one row's
 * changes in order), and its id the trigger's and the change's place in the log, so that a change sent again after a
 * restart is the same event.
 */
final class ChangeEvents {
    static final String TABLE_HEADER = "wharf-table";
    static final String OPERATION_HEADER = "wharf-operation";
    private static final Map<String, String> OPERATIONS = Map.of("c", "insert", "u", "update", "d", "delete", "r", "read", "t", "truncate");

    private final Trigger trigger;
    private final ObjectMapper mapper;
    private final String idPrefix;

    ChangeEvents(Trigger trigger, ObjectMapper mapper) {
        this.trigger = trigger;
        this.mapper = mapper;
        this.idPrefix = io.wharf.rules.Triggers.instance(trigger) + "-";
    }

    private static String digest(String text) {
        try {
            byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(sha, 0, 10);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @param key the row's key as Debezium's JSON; {@code value} its change event */
    Event event(String key, String value, Instant now) {
        JsonNode change;
        try {
            change = mapper.readTree(value);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Debezium gave a change that is not JSON: " + e.getMessage(), e);
        }
        JsonNode source = change.path("source");
        String op = change.path("op").asText();
        String table = source.path("schema").asText() + "." + source.path("table").asText();
        ObjectNode payload = mapper.createObjectNode();
        payload.put("operation", OPERATIONS.getOrDefault(op, op));
        payload.put("op", op);
        payload.put("table", table);
        payload.set("before", change.path("before").isMissingNode() ? mapper.nullNode() : change.get("before"));
        payload.set("after", change.path("after").isMissingNode() ? mapper.nullNode() : change.get("after"));
        payload.set("lsn", source.path("lsn"));
        payload.set("txId", source.path("txId"));
        payload.put("committedAt", Instant.ofEpochMilli(source.path("ts_ms").asLong()).toString());
        // A change's place in the log is its id; rows read in a snapshot share one, so they are told apart by table and key.
        String place = op.equals("r") ? "r-" + digest(table + "|" + key) : source.path("lsn").asText();
        Map<String, String> headers = new HashMap<>();
        headers.put("wharf-trigger", trigger.getName());
        headers.put(TABLE_HEADER, table);
        headers.put(OPERATION_HEADER, OPERATIONS.getOrDefault(op, op));
        try {
            return Event.newBuilder()
                    .setId(idPrefix + place)
                    .setTenant(trigger.getTenant())
                    .setFunction(trigger.getFunction())
                    .setSource(EventSource.STREAM)
                    .setKey(key)
                    .setPayload(ByteBuffer.wrap(mapper.writeValueAsString(payload).getBytes(StandardCharsets.UTF_8)))
                    .setContentType("application/json")
                    .setHeaders(headers)
                    .setCreatedAt(now)
                    .build();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
