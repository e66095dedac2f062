package io.wharf.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

class EventEnvironmentTest {
    @Test
    void givesTheKeyWharfsOwnHeadersByNameAndOtherHeadersAsHeaderVariables() {
        Map<String, String> env = EventEnvironment.of("order-7", Map.of("wharf-topic", "orders", "wharf-offset", "41",
                "Content-Type", "application/json", "x-tenant.id", "acme"));

        assertThat(env).containsOnly(Map.entry("WHARF_EVENT_KEY", "order-7"), Map.entry("WHARF_EVENT_TOPIC", "orders"),
                Map.entry("WHARF_EVENT_OFFSET", "41"), Map.entry("WHARF_EVENT_HEADER_CONTENT_TYPE", "application/json"),
                Map.entry("WHARF_EVENT_HEADER_X_TENANT_ID", "acme"));
    }

    @Test
    void cutsLongValuesOnACharacterAndStopsBeforeTheEnvironmentGetsTooLarge() {
        String longValue = "é".repeat(EventEnvironment.MAX_VALUE_BYTES); // two bytes each
        Map<String, String> headers = new java.util.HashMap<>();
        for (int i = 0; i < 40; i++) {
            headers.put("h" + i, longValue);
        }

        Map<String, String> env = EventEnvironment.of(null, headers);

        assertThat(env.get("WHARF_EVENT_HEADER_H0")).hasSize(EventEnvironment.MAX_VALUE_BYTES / 2);
        assertThat(env.values().stream().mapToInt(v -> v.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 40).sum())
                .isLessThanOrEqualTo(EventEnvironment.MAX_TOTAL_BYTES);
        assertThat(env).doesNotContainKey("WHARF_EVENT_KEY");
    }
}
