package io.wharf.serde;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import io.wharf.records.Event;
import io.wharf.records.EventSource;

/** Sample records for serde tests. */
final class Records {
    private Records() {
    }

    static Event event(String id, byte[] payload) {
        return Event.newBuilder()
                .setId(id)
                .setFunction("resize-image")
                .setSource(EventSource.WEBHOOK)
                .setKey("user-42")
                .setPayload(ByteBuffer.wrap(payload))
                .setContentType("application/json")
                .setHeaders(Map.of("x-trace", "abc"))
                .setCreatedAt(java.time.Instant.ofEpochMilli(1_700_000_000_000L))
                .build();
    }

    static Event event(String id) {
        return event(id, "{\"w\":640,\"text\":\"héllo\"}".getBytes(StandardCharsets.UTF_8));
    }
}
