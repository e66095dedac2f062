import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Wharf job whose function has a payload key: its payload (stdin) is a JWE, RSA-OAEP-256 + A256GCM, and its private
 * key is in $PAYLOAD_PRIVATE_KEY (PKCS#8 PEM; deploy it with --secret-env). Plain JDK, no library: any JOSE library
 * (Python's jwcrypto, Node's jose, Go's go-jose) opens it as well.
 */
public class OpenPayload {
    public static void main(String[] args) throws Exception {
        String[] jwe = new String(System.in.readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\.");
        Base64.Decoder url = Base64.getUrlDecoder();
        String pem = System.getenv("PAYLOAD_PRIVATE_KEY").replaceAll("-----[A-Z ]+-----|\\s", "");
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));

        // 1. The AES key, wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256).
        Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding");
        rsa.init(Cipher.DECRYPT_MODE, key, new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
        byte[] aesKey = rsa.doFinal(url.decode(jwe[1]));
        // 2. The payload, AES-256-GCM: IV, then ciphertext with its tag, the header (as sent) authenticated.
        Cipher aes = Cipher.getInstance("AES/GCM/NoPadding");
        aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(aesKey, "AES"), new GCMParameterSpec(128, url.decode(jwe[2])));
        aes.updateAAD(jwe[0].getBytes(StandardCharsets.US_ASCII));
        byte[] ciphertext = url.decode(jwe[3]), tag = url.decode(jwe[4]);
        byte[] sealed = Arrays.copyOf(ciphertext, ciphertext.length + tag.length);
        System.arraycopy(tag, 0, sealed, ciphertext.length, tag.length);
        byte[] payload = aes.doFinal(sealed);

        // The job's own work. Its answer holds the payload only when Wharf seals the answer to the caller's key (the
        // caller gave one): otherwise it would be in clear on wharf.results; then it says what it read, not what.
        String text = new String(payload, StandardCharsets.UTF_8);
        boolean answerSealed = System.getenv("WHARF_EVENT_REPLY_KEY") != null;
        System.out.println(answerSealed ? "opened: " + text : "opened " + payload.length + " bytes, sha-256 "
                + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(payload)));
    }
}
