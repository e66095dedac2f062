package io.wharf.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;

import org.junit.jupiter.api.Test;

class SealedSecretsTest {
    private final SealedSecrets secrets = SealedSecrets.fromBase64("WHARF_SECRETS_KEY", SealedSecrets.newKey());

    @Test
    void opensWhatItSealedForTheSameContextOnly() {
        String sealed = secrets.seal("s3cret", "fn-a");
        assertThat(sealed).startsWith(SealedSecrets.PREFIX).doesNotContain("s3cret");
        assertThat(secrets.seal("s3cret", "fn-a")).as("a fresh nonce each time").isNotEqualTo(sealed);
        assertThat(secrets.open(sealed, "fn-a")).isEqualTo("s3cret");
        assertThatThrownBy(() -> secrets.open(sealed, "fn-b")).hasMessageContaining("another function");
    }

    @Test
    void refusesAnotherKeyAndAlteredValuesAndPassesPlainValuesThrough() {
        String sealed = secrets.seal("s3cret", "fn");
        SealedSecrets other = SealedSecrets.fromBase64("k", SealedSecrets.newKey());
        assertThatThrownBy(() -> other.open(sealed, "fn")).hasMessageContaining("another key");
        byte[] bytes = Base64.getDecoder().decode(sealed.substring(SealedSecrets.PREFIX.length()));
        bytes[bytes.length - 1] ^= 1;
        assertThatThrownBy(() -> secrets.open(SealedSecrets.PREFIX + Base64.getEncoder().encodeToString(bytes), "fn")).hasMessageContaining("altered");
        assertThatThrownBy(() -> secrets.open(SealedSecrets.PREFIX + "not base64!", "fn")).hasMessageContaining("not a well-formed");
        assertThat(secrets.open("plain", "fn")).isEqualTo("plain");
    }

    @Test
    void aBadKeyIsRefusedNamingItsSetting() {
        assertThatThrownBy(() -> SealedSecrets.fromBase64("wharf.secrets.key", "not base64!")).hasMessageContaining("wharf.secrets.key is not base64");
        assertThatThrownBy(() -> SealedSecrets.fromBase64("wharf.secrets.key", Base64.getEncoder().encodeToString(new byte[16])))
                .hasMessageContaining("wharf.secrets.key holds 16 bytes; it must be 32");
    }
}
