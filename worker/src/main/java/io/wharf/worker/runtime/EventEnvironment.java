package io.wharf.worker.runtime;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a job's event says besides its payload, as its container's environment: {@code WHARF_EVENT_KEY} (its ordering
 * key), Wharf's own headers ({@code wharf-topic} as {@code WHARF_EVENT_TOPIC}: a trigger's source record, a schedule, a
 * chain's parent) and every other header as {@code WHARF_EVENT_HEADER_<NAME>} (upper case, anything but letters and
 * digits as {@code _}). Values are cut at {@value #MAX_VALUE_BYTES} bytes, and the variables stop at
 * {@value #MAX_TOTAL_BYTES} bytes in all, so no event can make a container's environment too large to start.
 */
public final class EventEnvironment {
    /** Every variable of an event starts with it: what a container made before its job cannot carry. */
    public static final String PREFIX = "WHARF_EVENT_";
    static final int MAX_VALUE_BYTES = 4096;
    static final int MAX_TOTAL_BYTES = 64 * 1024;
    private static final String OWN = "wharf-";

    private EventEnvironment() {
    }

    /** The variables of an event with {@code key} (may be null) and {@code headers}. */
    public static Map<String, String> of(String key, Map<String, String> headers) {
        Map<String, String> env = new LinkedHashMap<>();
        int total = 0;
        if (key != null) {
            total += put(env, PREFIX + "KEY", key, total);
        }
        for (Map.Entry<String, String> header : new java.util.TreeMap<>(headers).entrySet()) {
            String name = header.getKey();
            String variable = name.startsWith(OWN) ? PREFIX + HttpEnvironment.variableName(name.substring(OWN.length()))
                    : PREFIX + "HEADER_" + HttpEnvironment.variableName(name);
            total += put(env, variable, header.getValue(), total);
        }
        return env;
    }

    private static int put(Map<String, String> env, String name, String value, int total) {
        String cut = cut(value.replace('\0', ' '));
        int size = name.length() + cut.getBytes(StandardCharsets.UTF_8).length + 2;
        if (total + size > MAX_TOTAL_BYTES) {
            return 0;
        }
        env.put(name, cut);
        return size;
    }

    private static String cut(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_VALUE_BYTES) {
            return value;
        }
        // Cut on a character's boundary: a UTF-8 continuation byte starts 10xxxxxx.
        int end = MAX_VALUE_BYTES;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }
}
