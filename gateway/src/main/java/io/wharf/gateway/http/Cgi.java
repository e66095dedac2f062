package io.wharf.gateway.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A function's output read as a CGI response (RFC 3875, section 6): header lines ({@code Status: 201 Created},
 * {@code Content-Type: ...}, any other), a blank line, then the body. Output that does not begin with well-formed
 * headers is not a CGI response.
 */
public record Cgi(int status, Map<String, String> headers, byte[] body) {
    /** Headers a function may not set: the gateway's framing and its own. */
    private static final java.util.Set<String> RESERVED = java.util.Set.of("content-length", "transfer-encoding", "connection", "x-call-id");
    private static final int MAX_HEAD = 16 * 1024;

    /** The response {@code output} holds, or empty if it does not begin with CGI headers and a blank line. */
    public static Optional<Cgi> parse(byte[] output) {
        int end = headEnd(output);
        if (end < 0) {
            return Optional.empty();
        }
        String head = new String(output, 0, end, StandardCharsets.ISO_8859_1);
        int status = 200;
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line : head.split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon < 1 || !line.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                return Optional.empty();
            }
            String name = line.substring(0, colon);
            String value = line.substring(colon + 1).strip();
            if (name.equalsIgnoreCase("Status")) {
                try {
                    status = Integer.parseInt(value.split(" ", 2)[0]);
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
                if (status < 100 || status > 599) {
                    return Optional.empty();
                }
            } else if (!RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
                headers.merge(name, value, (a, b) -> a + ", " + b);
            }
        }
        int bodyStart = end + (output[end] == '\r' ? 4 : 2);
        return Optional.of(new Cgi(status, headers, Arrays.copyOfRange(output, bodyStart, output.length)));
    }

    /** Where the blank line after the headers begins ({@code \n\n} or {@code \r\n\r\n}), or -1. */
    private static int headEnd(byte[] output) {
        for (int i = 0; i < Math.min(output.length - 1, MAX_HEAD); i++) {
            if (output[i] == '\n' && output[i + 1] == '\n') {
                return i;
            }
            if (i + 3 < output.length && output[i] == '\r' && output[i + 1] == '\n' && output[i + 2] == '\r' && output[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
