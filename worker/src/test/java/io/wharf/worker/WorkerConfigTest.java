package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** A worker's settings as an operator mistypes them: each fails start-up naming the key and, for a typo, the one meant. */
class WorkerConfigTest {
    private static Map<String, Object> with(String key, Object value) {
        Map<String, Object> settings = new HashMap<>(Map.of(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092",
                WorkerConfig.REGISTRY_URL_CONFIG, "http://127.0.0.1:1"));
        settings.put(key, value);
        return settings;
    }

    @Test
    void aMisspeltSettingNamesTheClosestValidKey() {
        assertThatThrownBy(() -> new WorkerConfig(with("wharf.worker.slot", "4"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("wharf.worker.slot").hasMessageContaining("did you mean wharf.worker.slots?");
        assertThatThrownBy(() -> new WorkerConfig(with("wharf.registry.basic.auth.userinfo", "a:b")))
                .hasMessageContaining("did you mean wharf.registry.basic.auth.user.info?").hasMessageNotContaining("a:b");
    }

    @Test
    void aValueOutOfRangeIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> new WorkerConfig(with(WorkerConfig.SLOTS_CONFIG, "0"))).hasMessageContaining(WorkerConfig.SLOTS_CONFIG);
        assertThatThrownBy(() -> new WorkerConfig(with(WorkerConfig.POOL_CONFIG, "a pool"))).hasMessageContaining("Pool name 'a pool'");
        assertThatThrownBy(() -> new WorkerConfig(with("wharf.registry.basic.auth.user.info", "nocolon")).registry())
                .hasMessageContaining("user:password");
    }

    @Test
    void theResultProducerRetriesSoonUnlessTheSettingsSayOtherwise() {
        assertThat(new WorkerConfig(with(WorkerConfig.SLOTS_CONFIG, 4)).resultProducerProperties().get(ProducerConfig.RETRY_BACKOFF_MS_CONFIG))
                .isEqualTo(5);
        assertThat(new WorkerConfig(with("producer.retry.backoff.ms", 50)).resultProducerProperties().get(ProducerConfig.RETRY_BACKOFF_MS_CONFIG))
                .isEqualTo(50);
    }
}
