package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.wharf.secrets.SealedSecrets;

/** The worker's keys for sealed values: from the setting (its environment variable) or a file, never both, each checked at start. */
class RegistryPasswordTest {
    private final String key = SealedSecrets.newKey();
    private final SealedSecrets.Binding binding = new SealedSecrets.Binding("f", "docker.io", "registry password");
    private static final Map<String, Object> BASE = Map.of(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092",
            WorkerConfig.REGISTRY_URL_CONFIG, "http://127.0.0.1:1");

    @TempDir
    Path dir;

    @Test
    void aMalformedKeyFailsTheWorkersConfigNamingIt() {
        assertThatThrownBy(() -> new WorkerConfig(with(WorkerConfig.SECRETS_KEY_CONFIG, "c2hvcnQ="))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("wharf.secrets.key holds 5 bytes; it must be 32").hasMessageNotContaining("c2hvcnQ");
        SealedSecrets secrets = SealedSecrets.fromBase64("k", key);
        assertThat(new WorkerConfig(with(WorkerConfig.SECRETS_KEY_CONFIG, key)).secrets().open(secrets.seal("x", binding), binding)).isEqualTo("x");
        assertThat(new WorkerConfig(BASE).secrets()).isNull();
    }

    @Test
    void keysComeFromAFileTooButNotFromBoth() throws Exception {
        Path file = Files.writeString(dir.resolve("keys"), SealedSecrets.newKey() + "\n" + key + "\n");
        SealedSecrets ring = new WorkerConfig(with(WorkerConfig.SECRETS_KEY_FILE_CONFIG, file.toString())).secrets();
        assertThat(ring.keyIds()).hasSize(2).contains(SealedSecrets.fromBase64("k", key).sealingKeyId());
        assertThatThrownBy(() -> new WorkerConfig(with(WorkerConfig.SECRETS_KEY_FILE_CONFIG, dir.resolve("none").toString())))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cannot read");
        Map<String, Object> both = new java.util.HashMap<>(with(WorkerConfig.SECRETS_KEY_FILE_CONFIG, file.toString()));
        both.put(WorkerConfig.SECRETS_KEY_CONFIG, key);
        assertThatThrownBy(() -> new WorkerConfig(both).secrets()).hasMessageContaining("not both");
    }

    private static Map<String, Object> with(String setting, String value) {
        Map<String, Object> all = new java.util.HashMap<>(BASE);
        all.put(setting, value);
        return all;
    }
}
