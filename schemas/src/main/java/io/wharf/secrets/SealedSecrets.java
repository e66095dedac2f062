package io.wharf.secrets;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Secrets that travel in records (a function's registry password, in {@code wharf.functions} and every job of
 * the function) sealed with a key that only deployers and workers hold: AES-256-GCM, a random 96-bit nonce per
 * value, and the value's context (the function's name) as associated data, so a sealed value copied into another
 * function's spec does not open there. A sealed value reads {@code sealed:v1:} + base64(nonce, ciphertext, tag).
 */
public final class SealedSecrets {
    public static final String PREFIX = "sealed:v1:";
    /** The worker setting that holds the key which opens what was sealed. */
    public static final String KEY_SETTING = "wharf.secrets.key";
    private static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    private SealedSecrets(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    /** A key from its base64 text; {@code setting} names where it came from, for the error. */
    public static SealedSecrets fromBase64(String setting, String base64) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + " is not base64: give the key that `wharf secrets-key` printed", e);
        }
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException(setting + " holds " + key.length + " bytes; it must be " + KEY_BYTES
                    + " (base64 of a 256-bit key, as `wharf secrets-key` prints)");
        }
        return new SealedSecrets(key);
    }

    /** A new random key, base64. */
    public static String newKey() {
        byte[] key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    public static boolean isSealed(String value) {
        return value != null && value.startsWith(PREFIX);
    }

    public String seal(String plaintext, String context) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            return PREFIX + Base64.getEncoder().encodeToString(ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    /**
     * The plaintext of a sealed value (a value that is not sealed is returned as it is).
     *
     * @throws IllegalArgumentException if it was sealed with another key, for another context, or altered
     */
    public String open(String value, String context) {
        if (!isSealed(value)) {
            return value;
        }
        try {
            byte[] all = Base64.getDecoder().decode(value.substring(PREFIX.length()));
            if (all.length < NONCE_BYTES + TAG_BITS / 8) {
                throw new IllegalArgumentException("the sealed value is too short to be one");
            }
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 0, NONCE_BYTES));
            cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            return new String(cipher.doFinal(all, NONCE_BYTES, all.length - NONCE_BYTES), StandardCharsets.UTF_8);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new IllegalArgumentException("it was sealed with another key or for another function, or altered since");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("it is not a well-formed sealed value: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }
}
