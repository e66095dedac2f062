package io.wharf.secrets;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.Base64;

import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.RSADecrypter;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.jwk.RSAKey;

/**
 * Payloads only their function can read: a JWE (RFC 7516) in compact form, {@code RSA-OAEP-256} (RSA-OAEP with
 * SHA-256 and MGF1-SHA-256) wrapping a fresh AES-256-GCM key per payload ({@code A256GCM}). Its protected header names
 * the key ({@code kid}: the RFC 7638 thumbprint of the public key) and the payload's own content type ({@code cty}),
 * which the dispatcher can read without the key to check the function's content types. Any JOSE library opens one;
 * {@code docs/sources.md} shows it in a few lines of plain Java. Results may be sealed the same way to a caller's key.
 */
public final class PayloadEnvelope {
    /** The content type of a sealed payload (the original one is in its header's {@code cty}). */
    public static final String CONTENT_TYPE = "application/jose";
    /** The event header that asks for the result to be sealed to this public key (base64 of its X.509 DER). */
    public static final String REPLY_KEY_HEADER = "wharf-reply-key";
    private static final int MIN_RSA_BITS = 2048;

    private PayloadEnvelope() {
    }

    /** A sealed payload: what was sealed and its content type. */
    public record Opened(byte[] payload, String contentType) {
    }

    /** Seals {@code payload} of {@code contentType} to {@code key}: the JWE's compact form, ASCII. */
    public static byte[] seal(byte[] payload, String contentType, RSAPublicKey key) {
        try {
            JWEHeader header = new JWEHeader.Builder(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM)
                    .contentType(contentType).keyID(keyId(key)).build();
            JWEObject jwe = new JWEObject(header, new Payload(payload));
            jwe.encrypt(new RSAEncrypter(key));
            return jwe.serialize().getBytes(StandardCharsets.US_ASCII);
        } catch (JOSEException e) {
            throw new IllegalStateException("Could not seal a payload: " + e.getMessage(), e);
        }
    }

    /** {@code event} with its payload sealed to {@code key}, unless it is sealed already. */
    public static io.wharf.records.Event sealed(io.wharf.records.Event event, RSAPublicKey key) {
        if (CONTENT_TYPE.equals(event.getContentType())) {
            return event;
        }
        byte[] payload = new byte[event.getPayload().remaining()];
        event.getPayload().duplicate().get(payload);
        return io.wharf.records.Event.newBuilder(event).setPayload(java.nio.ByteBuffer.wrap(seal(payload, event.getContentType(), key)))
                .setContentType(CONTENT_TYPE).build();
    }

    /** @throws IllegalArgumentException when {@code envelope} is no JWE of this kind, or {@code key} does not open it */
    public static Opened open(byte[] envelope, PrivateKey key) {
        try {
            JWEObject jwe = JWEObject.parse(new String(envelope, StandardCharsets.US_ASCII).trim());
            jwe.decrypt(new RSADecrypter(key));
            return new Opened(jwe.getPayload().toBytes(), jwe.getHeader().getContentType());
        } catch (ParseException e) {
            throw new IllegalArgumentException("Not a sealed payload (a JWE in compact form): " + e.getMessage(), e);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("The sealed payload does not open with this key: " + e.getMessage(), e);
        }
    }

    /** The content type sealed inside {@code envelope}, read from its header (no key needed); null when it has none. */
    public static String sealedContentType(byte[] envelope) {
        try {
            return JWEObject.parse(new String(envelope, StandardCharsets.US_ASCII).trim()).getHeader().getContentType();
        } catch (ParseException e) {
            throw new IllegalArgumentException("Not a sealed payload (a JWE in compact form): " + e.getMessage(), e);
        }
    }

    /** Whether {@code bytes} look like a JWE's compact form (five base64url parts). */
    public static boolean looksSealed(byte[] bytes) {
        int dots = 0;
        for (byte b : bytes) {
            if (b == '.') {
                dots++;
            } else if (!(Character.isLetterOrDigit(b) || b == '-' || b == '_')) {
                return false;
            }
        }
        return dots == 4;
    }

    /** The key's id: its RFC 7638 thumbprint (SHA-256, base64url). */
    public static String keyId(RSAPublicKey key) {
        try {
            return new RSAKey.Builder(key).build().computeThumbprint().toString();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A public key from PEM ({@code -----BEGIN PUBLIC KEY-----}, as {@code openssl rsa -pubout} writes it) or base64 of
     * its X.509 DER; the public half of a private key (PKCS#8 PEM) too.
     *
     * @throws IllegalArgumentException naming what is wrong and how to make a right one
     */
    public static RSAPublicKey publicKey(String text) {
        try {
            if (text.contains("PRIVATE KEY")) {
                RSAPrivateCrtKey priv = (RSAPrivateCrtKey) privateKey(text);
                return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(priv.getModulus(), priv.getPublicExponent()));
            }
            RSAPublicKey key = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der(text, "PUBLIC KEY")));
            if (key.getModulus().bitLength() < MIN_RSA_BITS) {
                throw new IllegalArgumentException("The payload key is RSA-" + key.getModulus().bitLength() + "; use at least " + MIN_RSA_BITS
                        + " bits (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072)");
            }
            return key;
        } catch (java.security.GeneralSecurityException | ClassCastException e) {
            throw new IllegalArgumentException("Not an RSA public key (" + e.getMessage() + "): give the PEM that `openssl rsa -in private.pem -pubout` "
                    + "writes", e);
        }
    }

    /** A private key from PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}, as {@code openssl genpkey} writes it). */
    public static PrivateKey privateKey(String pem) {
        try {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der(pem, "PRIVATE KEY")));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("Not an RSA private key in PKCS#8 PEM (" + e.getMessage() + "): `openssl genpkey -algorithm RSA "
                    + "-pkeyopt rsa_keygen_bits:3072 -out private.pem` makes one", e);
        }
    }

    /** Base64 of the key's X.509 DER: how a reply key travels in one header. */
    public static String encode(RSAPublicKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    private static byte[] der(String text, String label) {
        String body = text.replace("-----BEGIN " + label + "-----", "").replace("-----END " + label + "-----", "").replaceAll("\\s", "");
        try {
            return Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Not a " + label + " in PEM or base64: " + e.getMessage(), e);
        }
    }
}
