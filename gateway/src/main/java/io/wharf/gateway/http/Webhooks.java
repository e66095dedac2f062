package io.wharf.gateway.http;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import io.javalin.http.Context;
import io.wharf.client.WharfClient;
import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.FunctionSpec;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;

/**
 * {@code POST /hooks/{name}}: a signed webhook runs a function deployed with a webhook secret, without an API key.
 * The request carries {@code X-Wharf-Signature: t=UNIX_SECONDS,v1=HEX}, HMAC-SHA256 of {@code t + "." + body}, at most
 * five minutes old; or GitHub's {@code X-Hub-Signature-256: sha256=HEX} over the body. A signature seen before is
 * refused: this instance remembers the ones of the last five minutes, and the event's id is derived from the
 * signature (GitHub's: from its delivery id), so a replay through another instance is dropped by the dispatcher's
 * dedupe of event ids, which runs nothing twice. A function without a webhook secret has no hook (404).
 */
public final class Webhooks {
    public static final String SIGNATURE = "X-Wharf-Signature";
    public static final String GITHUB_SIGNATURE = "X-Hub-Signature-256";
    static final Duration MAX_AGE = Duration.ofMinutes(5);

    private final Invocations invocations;
    private final Function<String, FunctionSpec> functions;
    private final SealedSecrets keys;
    private final Clock clock;
    private final Map<String, Long> seen = new ConcurrentHashMap<>();

    /** @param keys this gateway's secrets keys, which open webhook secrets; null when it has none */
    public Webhooks(Invocations invocations, Function<String, FunctionSpec> functions, SealedSecrets keys, Clock clock) {
        this.invocations = invocations;
        this.functions = functions;
        this.keys = keys;
        this.clock = clock;
    }

    public void receive(Context ctx) {
        String name = ctx.pathParam("name");
        FunctionSpec function = functions.apply(name);
        if (function == null || function.getWebhookSecret() == null) {
            throw ApiError.notFound("No webhook " + name + ": deploy the function with --webhook-secret");
        }
        String secret;
        try {
            secret = FunctionSecrets.openWebhookSecret(keys, function);
        } catch (IllegalArgumentException e) {
            throw ApiError.of(503, "unavailable", "This gateway cannot open the webhook secret of " + name + ": its operator gives it "
                    + SealedSecrets.KEY_SETTING + " (the key the function was deployed with)");
        }
        Event event = invocations.event(ctx, function, EventSource.WEBHOOK, null);
        byte[] body = ResultResponses.bytes(event.getPayload());
        String id = verify(ctx, secret, body);
        event.setId(id);
        // The id comes from the signature, and another instance may be sent the same request: the dispatcher's dedupe catches it.
        invocations.accepted(ctx, event, WharfClient.Resend.POSSIBLE);
    }

    /**
     * The event id a valid signature gives its event.
     *
     * @throws ApiError 401 naming what is wrong: missing, malformed, stale, wrong, or seen before
     */
    private String verify(Context ctx, String secret, byte[] body) {
        String wharf = ctx.header(SIGNATURE);
        String github = ctx.header(GITHUB_SIGNATURE);
        long now = clock.millis();
        seen.values().removeIf(at -> now - at > MAX_AGE.toMillis());
        if (wharf != null) {
            Map<String, String> parts = parts(wharf);
            String t = parts.get("t");
            String v1 = parts.get("v1");
            if (t == null || v1 == null || !t.matches("\\d{1,12}")) {
                throw ApiError.unauthorized(SIGNATURE + " must read t=UNIX_SECONDS,v1=HEX");
            }
            long age = now - Long.parseLong(t) * 1000;
            if (Math.abs(age) > MAX_AGE.toMillis()) {
                throw ApiError.unauthorized("The signature is " + (age / 1000) + " s old; signatures are taken up to " + MAX_AGE.toSeconds()
                        + " s: sign each request when it is sent");
            }
            byte[] signed = (t + ".").getBytes(StandardCharsets.UTF_8);
            byte[] message = new byte[signed.length + body.length];
            System.arraycopy(signed, 0, message, 0, signed.length);
            System.arraycopy(body, 0, message, signed.length, body.length);
            check(secret, message, v1);
            return once("wharf:" + v1.toLowerCase(java.util.Locale.ROOT), now);
        }
        if (github != null) {
            if (!github.startsWith("sha256=")) {
                throw ApiError.unauthorized(GITHUB_SIGNATURE + " must read sha256=HEX");
            }
            String v = github.substring(7);
            check(secret, body, v);
            String delivery = ctx.header("X-GitHub-Delivery");
            return once("github:" + (delivery != null ? delivery : v.toLowerCase(java.util.Locale.ROOT)), now);
        }
        throw ApiError.unauthorized("A webhook needs " + SIGNATURE + " (t=UNIX_SECONDS,v1=HMAC-SHA256 of t.body) or " + GITHUB_SIGNATURE);
    }

    /** The event id of a signature, remembered; a signature seen in the last five minutes is refused. */
    private String once(String signature, long now) {
        if (seen.putIfAbsent(signature, now) != null) {
            throw ApiError.unauthorized("This signature was used before: a replayed request runs nothing");
        }
        return "hook-" + UUID.nameUUIDFromBytes(signature.getBytes(StandardCharsets.UTF_8));
    }

    private static void check(String secret, byte[] message, String hex) {
        byte[] given;
        try {
            given = HexFormat.of().parseHex(hex.strip());
        } catch (IllegalArgumentException e) {
            throw ApiError.unauthorized("The signature is not hexadecimal");
        }
        if (!MessageDigest.isEqual(hmac(secret, message), given)) {
            throw ApiError.unauthorized("The signature does not match the body: sign it with the function's webhook secret");
        }
    }

    /** HMAC-SHA256 of {@code message} with {@code secret}. */
    public static byte[] hmac(String secret, byte[] message) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(message);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> parts(String header) {
        Map<String, String> out = new java.util.HashMap<>();
        for (String part : header.split(",")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.putIfAbsent(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
            }
        }
        return out;
    }
}
