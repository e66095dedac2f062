package io.wharf.rules;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.wharf.records.ApiKey;

/**
 * API keys of the HTTP gateway: {@code wharf_<id>_<secret>}, where the id is public (it keys {@code wharf.apikeys}
 * and names the key in lists and logs) and only the SHA-256 of the 256-bit random secret is stored, so neither Kafka
 * nor a backup holds a usable key. A key is shown once, when it is made.
 */
public final class ApiKeys {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern FORMAT = Pattern.compile("wharf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})");

    private ApiKeys() {
    }

    /** A new key: the record to store and the key to hand out (once). */
    public record Issued(ApiKey record, String key) {
    }

    public static Issued issue(String tenant, boolean admin, String description, Instant now) {
        byte[] id = new byte[6];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(id);
        RANDOM.nextBytes(secret);
        String idHex = HexFormat.of().formatHex(id);
        String secretText = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        ApiKey record = ApiKey.newBuilder().setId(idHex).setTenant(tenant).setAdmin(admin).setSecretSha256(sha256(secretText))
                .setDescription(description == null ? "" : description).setCreatedAt(now).build();
        return new Issued(record, "wharf_" + idHex + "_" + secretText);
    }

    /** The stored key that {@code presented} is, or empty for a malformed, unknown, revoked or wrong key. */
    public static Optional<ApiKey> verify(String presented, Map<String, ApiKey> stored) {
        return verify(presented, stored::get);
    }

    /** As {@link #verify(String, Map)}, looking stored keys up by id ({@code null} for none). */
    public static Optional<ApiKey> verify(String presented, Function<String, ApiKey> stored) {
        Matcher m = presented == null ? null : FORMAT.matcher(presented.strip());
        if (m == null || !m.matches()) {
            return Optional.empty();
        }
        ApiKey key = stored.apply(m.group(1));
        if (key == null) {
            return Optional.empty();
        }
        boolean same = MessageDigest.isEqual(sha256(m.group(2)).getBytes(StandardCharsets.US_ASCII),
                key.getSecretSha256().getBytes(StandardCharsets.US_ASCII));
        return same ? Optional.of(key) : Optional.empty();
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
