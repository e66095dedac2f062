package io.wharf.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;

import org.junit.jupiter.api.Test;

class SealedSecretsTest {
    private final SealedSecrets secrets = SealedSecrets.fromBase64("WHARF_SECRETS_KEY", SealedSecrets.newKey());
    private final SealedSecrets.Binding binding = new SealedSecrets.Binding("fn-a", "registry.example:5000", "env TOKEN");

    @Test
    void opensWhatItSealedForTheSameBindingOnly() {
        String sealed = secrets.seal("s3cret", binding);
        assertThat(sealed).startsWith(SealedSecrets.PREFIX + secrets.sealingKeyId() + ":registry.example:5000:").doesNotContain("s3cret");
        assertThat(secrets.seal("s3cret", binding)).as("a fresh nonce each time").isNotEqualTo(sealed);
        assertThat(secrets.open(sealed, binding)).isEqualTo("s3cret");
        assertThatThrownBy(() -> secrets.open(sealed, new SealedSecrets.Binding("fn-b", "registry.example:5000", "env TOKEN")))
                .hasMessageContaining("another function");
        assertThatThrownBy(() -> secrets.open(sealed, new SealedSecrets.Binding("fn-a", "registry.example:5000", "env OTHER")))
                .hasMessageContaining("another variable");
        assertThatThrownBy(() -> secrets.open(sealed, new SealedSecrets.Binding("fn-a", "evil.example", "env TOKEN")))
                .hasMessageContaining("sealed for images from registry host registry.example:5000").hasMessageContaining("evil.example");
    }

    @Test
    void refusesAnotherKeyAndAlteredValuesAndPassesPlainValuesThrough() {
        String sealed = secrets.seal("s3cret", binding);
        SealedSecrets other = SealedSecrets.fromBase64("k", SealedSecrets.newKey());
        assertThatThrownBy(() -> other.open(sealed, binding)).hasMessageContaining("sealed with key " + secrets.sealingKeyId())
                .hasMessageContaining("holds " + other.sealingKeyId());
        String data = sealed.substring(sealed.lastIndexOf(':') + 1);
        byte[] bytes = Base64.getDecoder().decode(data);
        bytes[bytes.length - 1] ^= 1;
        assertThatThrownBy(() -> secrets.open(sealed.replace(data, Base64.getEncoder().encodeToString(bytes)), binding)).hasMessageContaining("altered");
        assertThatThrownBy(() -> secrets.open(sealed.replace(data, "not base64!"), binding)).hasMessageContaining("not a well-formed");
        assertThatThrownBy(() -> secrets.open(SealedSecrets.PREFIX + "nonsense", binding)).hasMessageContaining("not a well-formed");
        assertThat(secrets.open("plain", binding)).isEqualTo("plain");
    }

    @Test
    void aRingOpensWithEveryKeyAndSealsWithTheFirst() {
        String oldKey = SealedSecrets.newKey();
        String newKey = SealedSecrets.newKey();
        SealedSecrets old = SealedSecrets.fromBase64("k", oldKey);
        SealedSecrets ring = SealedSecrets.fromBase64("k", newKey + "," + oldKey);
        assertThat(ring.open(old.seal("v", binding), binding)).isEqualTo("v");
        assertThat(SealedSecrets.keyIdOf(ring.seal("v", binding))).contains(ring.sealingKeyId());
        assertThat(ring.keyIds()).containsExactly(SealedSecrets.fromBase64("k", newKey).sealingKeyId(), old.sealingKeyId());
    }

    @Test
    void aBadKeyIsRefusedNamingItsSetting() {
        assertThatThrownBy(() -> SealedSecrets.fromBase64("wharf.secrets.key", "not base64!")).hasMessageContaining("wharf.secrets.key is not base64");
        assertThatThrownBy(() -> SealedSecrets.fromBase64("wharf.secrets.key", Base64.getEncoder().encodeToString(new byte[16])))
                .hasMessageContaining("wharf.secrets.key holds 16 bytes; it must be 32");
        assertThatThrownBy(() -> SealedSecrets.fromBase64("wharf.secrets.key", " ")).hasMessageContaining("holds no key");
    }
}
