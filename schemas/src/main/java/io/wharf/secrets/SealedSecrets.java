package io.wharf.secrets;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Secrets that travel in records (a function's registry password and secret environment, in {@code wharf.functions}
 * and every job of the function) sealed with keys only deployers and workers hold: AES-256-GCM, a random 96-bit nonce
 * per value, and as associated data what the value is bound to (see {@link Binding}) and the sealing key's id, so a
 * sealed value copied into another function, or left in a function whose image now names another registry host, does
 * not open. A sealed value reads {@code sealed:v2:KEYID:HOST:} + base64(nonce, ciphertext, tag); the key id and host
 * in clear only let an error say why a value does not open.
 *
 * <p>A keyring holds one or more keys: the first seals, every one opens, so workers given the new and the old key keep
 * running jobs while {@code wharf secrets rotate} re-seals under the new one. A key's id is derived from the key (the
 * first 8 hex digits of its SHA-256), so nobody has to name keys.
 */
public final class SealedSecrets {
    public static final String PREFIX = "sealed:v2:";
    /** Values sealed by earlier releases: bound to the function's name only, opened by {@code wharf secrets rotate} alone. */
    public static final String PREFIX_V1 = "sealed:v1:";
    /** The role setting that holds the keys (base64, comma-separated, the first sealing); never an argument. */
    public static final String KEY_SETTING = "wharf.secrets.key";
    /** The role setting naming a file with the keys, one per line, the first sealing. */
    public static final String KEY_FILE_SETTING = "wharf.secrets.key.file";
    private static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What a sealed value is bound to: the function, the registry host of its image, and the value's name (the
     * registry password, or one secret variable), so values cannot be swapped between functions, hosts or variables.
     */
    public record Binding(String function, String registryHost, String name) {
        byte[] associatedData(String keyId) {
            return String.join("\0", "wharf-sealed-v2", function, registryHost, name, keyId).getBytes(StandardCharsets.UTF_8);
        }
    }

    private record Key(String id, SecretKeySpec spec) {
    }

    private final List<Key> keys;

    private SealedSecrets(List<Key> keys) {
        this.keys = List.copyOf(keys);
    }

    /** Keys from base64 text, comma-separated, the first sealing; {@code setting} names where they came from, for errors. */
    public static SealedSecrets fromBase64(String setting, String base64Keys) {
        List<Key> keys = new ArrayList<>();
        for (String text : base64Keys.split("[,\\r\\n]+")) {
            if (!text.isBlank()) {
                keys.add(key(setting, text.trim()));
            }
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException(setting + " holds no key: give the key that `wharf secrets key` printed");
        }
        return new SealedSecrets(keys);
    }

    /** Keys from a file, one per line (or comma-separated), the first sealing. */
    public static SealedSecrets fromFile(String setting, Path file) {
        try {
            return fromBase64(setting + " (" + file + ")", Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(setting + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static Key key(String setting, String base64) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + " is not base64: give the key that `wharf secrets key` printed", e);
        }
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException(setting + " holds " + key.length + " bytes; it must be " + KEY_BYTES
                    + " (base64 of a 256-bit key, as `wharf secrets key` prints)");
        }
        try {
            String id = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
            return new Key(id, new SecretKeySpec(key, "AES"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /** A new random key, base64. */
    public static String newKey() {
        byte[] key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    public static boolean isSealed(String value) {
        return value != null && (value.startsWith(PREFIX) || value.startsWith(PREFIX_V1));
    }

    /** The id of the key that seals. */
    public String sealingKeyId() {
        return keys.get(0).id();
    }

    /** The ids of the keys this ring holds, the sealing one first. */
    public List<String> keyIds() {
        return keys.stream().map(Key::id).toList();
    }

    /** The id of the key {@code sealed} was sealed with, if it is a v2 sealed value. */
    public static Optional<String> keyIdOf(String sealed) {
        return sealed != null && sealed.startsWith(PREFIX) ? Optional.of(parts(sealed)[0]) : Optional.empty();
    }

    public String seal(String plaintext, Binding binding) {
        Key key = keys.get(0);
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key.spec(), new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(binding.associatedData(key.id()));
            byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            return PREFIX + key.id() + ":" + binding.registryHost() + ":"
                    + Base64.getEncoder().encodeToString(ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    /**
     * The plaintext of a sealed value (a value that is not sealed is returned as it is).
     *
     * @throws IllegalArgumentException saying why: no key with its id here, sealed for another registry host, or
     *                                  sealed for another function or name (or altered), or sealed by an earlier release
     */
    public String open(String value, Binding binding) {
        if (!isSealed(value)) {
            return value;
        }
        if (value.startsWith(PREFIX_V1)) {
            throw new IllegalArgumentException("it was sealed by an earlier Wharf, bound to the function's name only: run "
                    + "`wharf secrets rotate` (or deploy the function again) to seal it bound to its registry host too");
        }
        String[] parts = parts(value);
        String keyId = parts[0];
        String host = parts[1];
        Key key = keys.stream().filter(k -> k.id().equals(keyId)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "it was sealed with key " + keyId + " and this keyring holds " + String.join(", ", keyIds())));
        if (!host.equals(binding.registryHost())) {
            throw new IllegalArgumentException("it was sealed for images from registry host " + host + " and the function's image is on "
                    + binding.registryHost() + ": a sealed value opens only for the host it was sealed for; deploy it again with the value");
        }
        try {
            return new String(decrypt(key, Base64.getDecoder().decode(parts[2]), binding.associatedData(keyId)), StandardCharsets.UTF_8);
        } catch (AEADBadTagException e) {
            throw new IllegalArgumentException("it was sealed for another function or another variable than " + binding.name() + " of "
                    + binding.function() + ", or altered since");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("it is not a well-formed sealed value: " + e.getMessage());
        }
    }

    /** A value sealed by an earlier release (bound to the function's name only), opened for re-sealing. */
    public String openV1(String value, String function) {
        byte[] all = Base64.getDecoder().decode(value.substring(PREFIX_V1.length()));
        for (Key key : keys) {
            try {
                return new String(decrypt(key, all, function.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
            } catch (AEADBadTagException e) {
                // another key of the ring, perhaps
            }
        }
        throw new IllegalArgumentException("none of the keys " + String.join(", ", keyIds()) + " opens it");
    }

    private static byte[] decrypt(Key key, byte[] all, byte[] associatedData) throws AEADBadTagException {
        if (all.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new IllegalArgumentException("the sealed value is too short to be one");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key.spec(), new GCMParameterSpec(TAG_BITS, all, 0, NONCE_BYTES));
            cipher.updateAAD(associatedData);
            return cipher.doFinal(all, NONCE_BYTES, all.length - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM", e);
        }
    }

    /** Key id, host (which may hold a port's colon), base64. */
    private static String[] parts(String sealed) {
        String rest = sealed.substring(PREFIX.length());
        int first = rest.indexOf(':');
        int last = rest.lastIndexOf(':');
        if (first < 0 || last <= first) {
            throw new IllegalArgumentException("it is not a well-formed sealed value (" + PREFIX + "KEYID:HOST:DATA)");
        }
        return new String[] {rest.substring(0, first), rest.substring(first + 1, last), rest.substring(last + 1)};
    }

    @Override
    public String toString() {
        return "SealedSecrets" + Arrays.toString(keyIds().toArray());
    }
}
