package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RegistryAuth;
import io.wharf.secrets.SealedSecrets;
import io.wharf.worker.internals.JobExecution;

class RegistryPasswordTest {
    private final String key = SealedSecrets.newKey();
    private final SealedSecrets secrets = SealedSecrets.fromBase64("k", key);

    private static FunctionSpec fn(String name, String password) {
        return FunctionSpec.newBuilder().setName(name).setImage("img")
                .setRegistryAuth(password == null ? null : RegistryAuth.newBuilder().setUsername("u").setPassword(password).build()).build();
    }

    @Test
    void opensASealedPasswordWithTheWorkersKeyAndPassesPlainOnesThrough() {
        assertThat(JobExecution.registryPassword(secrets, fn("f", secrets.seal("s3cret", "f")))).isEqualTo("s3cret");
        assertThat(JobExecution.registryPassword(null, fn("f", "plain"))).isEqualTo("plain");
        assertThat(JobExecution.registryPassword(null, fn("f", null))).isNull();
    }

    @Test
    void saysWhatIsMissingWhenASealedPasswordCannotBeOpened() {
        String sealed = secrets.seal("s3cret", "f");
        assertThatThrownBy(() -> JobExecution.registryPassword(null, fn("f", sealed)))
                .hasMessageContaining("function f is sealed and this worker has no wharf.secrets.key");
        assertThatThrownBy(() -> JobExecution.registryPassword(SealedSecrets.fromBase64("k", SealedSecrets.newKey()), fn("f", sealed)))
                .hasMessageContaining("function f cannot be opened with this worker's wharf.secrets.key");
        assertThatThrownBy(() -> JobExecution.registryPassword(secrets, fn("g", sealed))).hasMessageContaining("another function");
    }

    @Test
    void aMalformedKeyFailsTheWorkersConfigNamingIt() {
        Map<String, Object> base = Map.of(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092", WorkerConfig.REGISTRY_URL_CONFIG, "http://127.0.0.1:1");
        assertThatThrownBy(() -> new WorkerConfig(with(base, "c2hvcnQ="))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("wharf.secrets.key holds 5 bytes; it must be 32");
        assertThat(new WorkerConfig(with(base, key)).secrets().open(secrets.seal("x", "f"), "f")).isEqualTo("x");
        assertThat(new WorkerConfig(base).secrets()).isNull();
    }

    private static Map<String, Object> with(Map<String, Object> base, String key) {
        Map<String, Object> all = new java.util.HashMap<>(base);
        all.put(WorkerConfig.SECRETS_KEY_CONFIG, key);
        return all;
    }
}
