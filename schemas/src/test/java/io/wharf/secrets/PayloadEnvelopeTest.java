package io.wharf.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PayloadEnvelopeTest {
    private static KeyPair keys;
    private static KeyPair other;

    @BeforeAll
    static void keys() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        keys = rsa.generateKeyPair();
        other = rsa.generateKeyPair();
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END " + label + "-----\n";
    }

    @Test
    void aSealedPayloadOpensWithThePrivateKeyOnlyAndTellsItsContentTypeWithoutIt() {
        byte[] sealed = PayloadEnvelope.seal("{\"card\": \"4111\"}".getBytes(StandardCharsets.UTF_8), "application/json", (RSAPublicKey) keys.getPublic());

        assertThat(new String(sealed, StandardCharsets.US_ASCII)).doesNotContain("4111").matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]*){4}");
        assertThat(PayloadEnvelope.looksSealed(sealed)).isTrue();
        assertThat(PayloadEnvelope.sealedContentType(sealed)).isEqualTo("application/json");
        PayloadEnvelope.Opened opened = PayloadEnvelope.open(sealed, keys.getPrivate());
        assertThat(new String(opened.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"card\": \"4111\"}");
        assertThat(opened.contentType()).isEqualTo("application/json");
        assertThatThrownBy(() -> PayloadEnvelope.open(sealed, other.getPrivate())).hasMessageContaining("does not open with this key");
        assertThat(PayloadEnvelope.seal(new byte[] {1}, "x/y", (RSAPublicKey) keys.getPublic())).as("a fresh key and IV each time")
                .isNotEqualTo(PayloadEnvelope.seal(new byte[] {1}, "x/y", (RSAPublicKey) keys.getPublic()));
    }

    @Test
    void keysAreReadFromPemOrBase64AndBadOnesAreRefusedSayingHowToMakeOne() {
        RSAPublicKey fromPem = PayloadEnvelope.publicKey(pem("PUBLIC KEY", keys.getPublic().getEncoded()));
        assertThat(fromPem).isEqualTo(keys.getPublic());
        assertThat(PayloadEnvelope.publicKey(PayloadEnvelope.encode(fromPem))).isEqualTo(keys.getPublic());
        assertThat(PayloadEnvelope.publicKey(pem("PRIVATE KEY", keys.getPrivate().getEncoded()))).as("the public half of a private key")
                .isEqualTo(keys.getPublic());
        assertThatThrownBy(() -> PayloadEnvelope.publicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"))
                .hasMessageContaining("openssl rsa -in private.pem -pubout");
        assertThatThrownBy(() -> PayloadEnvelope.open("not.a.jwe".getBytes(), keys.getPrivate())).hasMessageContaining("Not a sealed payload");
        assertThat(PayloadEnvelope.looksSealed("plain text".getBytes())).isFalse();
    }
}
