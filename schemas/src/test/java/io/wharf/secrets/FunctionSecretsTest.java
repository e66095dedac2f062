package io.wharf.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RegistryAuth;

class FunctionSecretsTest {
    private final String oldKey = SealedSecrets.newKey();
    private final SealedSecrets keys = SealedSecrets.fromBase64("WHARF_SECRETS_KEY", oldKey);

    private static FunctionSpec fn(String name, String image, String password, Map<String, String> secretEnv) {
        return FunctionSpec.newBuilder().setName(name).setImage(image)
                .setRegistryAuth(password == null ? null : RegistryAuth.newBuilder().setUsername("u").setPassword(password).build())
                .setSecretEnv(secretEnv).build();
    }

    @Test
    void readsTheRegistryHostAsDockerDoes() {
        assertThat(FunctionSecrets.registryHost("busybox")).isEqualTo("docker.io");
        assertThat(FunctionSecrets.registryHost("wharf-local/busybox:1")).isEqualTo("docker.io");
        assertThat(FunctionSecrets.registryHost("127.0.0.1:5000/team/app:2")).isEqualTo("127.0.0.1:5000");
        assertThat(FunctionSecrets.registryHost("Registry.Example.com/app")).isEqualTo("registry.example.com");
        assertThat(FunctionSecrets.registryHost("localhost/app")).isEqualTo("localhost");
        FunctionSpec pinned = FunctionSpec.newBuilder(fn("f", "evil.example/app:1", null, Map.of()))
                .setImageDigest("127.0.0.1:5000/app@sha256:00").build();
        assertThat(FunctionSecrets.registryHost(pinned)).as("the worker pulls the digest").isEqualTo("127.0.0.1:5000");
    }

    @Test
    void sealsAndOpensTheRegistryPasswordAndSecretEnvironment() {
        FunctionSpec sealed = FunctionSecrets.sealAll(keys, fn("f", "127.0.0.1:5000/app:1", "pw", Map.of("TOKEN", "t0ken")));
        assertThat(sealed.getRegistryAuth().getPassword()).startsWith(SealedSecrets.PREFIX).doesNotContain("pw:");
        assertThat(sealed.getSecretEnv().get("TOKEN")).startsWith(SealedSecrets.PREFIX).doesNotContain("t0ken");
        assertThat(FunctionSecrets.hasSealed(sealed)).isTrue();
        assertThat(FunctionSecrets.openRegistryPassword(keys, sealed)).isEqualTo("pw");
        assertThat(FunctionSecrets.openEnv(keys, sealed)).containsExactly(Map.entry("TOKEN", "t0ken"));
        assertThat(FunctionSecrets.openRegistryPassword(null, fn("f", "img", "plain", Map.of()))).isEqualTo("plain");
    }

    @Test
    void aSealedPasswordMovedToAnImageOnAnotherHostOrToAnotherFunctionDoesNotOpenNamingWhy() {
        FunctionSpec sealed = FunctionSecrets.sealAll(keys, fn("f", "127.0.0.1:5000/app:1", "pw", Map.of("TOKEN", "t0ken")));
        FunctionSpec moved = FunctionSpec.newBuilder(sealed).setImage("evil.example/dump:1").build();
        assertThatThrownBy(() -> FunctionSecrets.openRegistryPassword(keys, moved)).hasMessageContaining("registry password of function f")
                .hasMessageContaining("registry host 127.0.0.1:5000").hasMessageContaining("evil.example");
        assertThatThrownBy(() -> FunctionSecrets.openEnv(keys, moved)).hasMessageContaining("env TOKEN of function f");
        FunctionSpec copied = FunctionSpec.newBuilder(sealed).setName("g").build();
        assertThatThrownBy(() -> FunctionSecrets.openEnv(keys, copied)).hasMessageContaining("another function");
        assertThatThrownBy(() -> FunctionSecrets.openEnv(null, sealed)).hasMessageContaining("has no wharf.secrets.key");
    }

    @Test
    void rotationReSealsUnderTheNewKeyWhatTheOldSealedAndKeepsWhatIsCurrent() {
        FunctionSpec old = FunctionSecrets.sealAll(keys, fn("f", "127.0.0.1:5000/app:1", "pw", Map.of("TOKEN", "t0ken")));
        SealedSecrets ring = SealedSecrets.fromBase64("WHARF_SECRETS_KEY", SealedSecrets.newKey() + "," + oldKey);
        FunctionSpec rotated = FunctionSecrets.sealAll(ring, old);
        assertThat(SealedSecrets.keyIdOf(rotated.getSecretEnv().get("TOKEN"))).contains(ring.sealingKeyId());
        assertThat(FunctionSecrets.openEnv(ring, rotated)).containsEntry("TOKEN", "t0ken");
        assertThat(FunctionSecrets.sealAll(ring, rotated)).as("nothing to do the second time").isEqualTo(rotated);
        assertThatThrownBy(() -> FunctionSecrets.openEnv(keys, rotated)).hasMessageContaining("sealed with key " + ring.sealingKeyId());
    }

    @Test
    void aValueSealedByAnEarlierReleaseIsRefusedByWorkersAndReSealedByRotation() throws Exception {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] nonce = new byte[12];
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(Base64.getDecoder().decode(oldKey), "AES"), new GCMParameterSpec(128, nonce));
        cipher.updateAAD("f".getBytes(StandardCharsets.UTF_8));
        byte[] ct = cipher.doFinal("pw".getBytes(StandardCharsets.UTF_8));
        byte[] all = new byte[12 + ct.length];
        System.arraycopy(ct, 0, all, 12, ct.length);
        FunctionSpec v1 = fn("f", "127.0.0.1:5000/app:1", SealedSecrets.PREFIX_V1 + Base64.getEncoder().encodeToString(all), Map.of());
        assertThatThrownBy(() -> FunctionSecrets.openRegistryPassword(keys, v1)).hasMessageContaining("wharf secrets rotate");
        assertThat(FunctionSecrets.openRegistryPassword(keys, FunctionSecrets.sealAll(keys, v1))).isEqualTo("pw");
    }
}
