package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** A dispatcher's settings as an operator mistypes them: each fails start-up naming the key and, for a typo, the one meant. */
class DispatcherConfigTest {
    private static Map<String, Object> with(String key, Object value) {
        Map<String, Object> settings = new HashMap<>(Map.of(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092",
                DispatcherConfig.REGISTRY_URL_CONFIG, "http://127.0.0.1:1"));
        settings.put(key, value);
        return settings;
    }

    @Test
    void aMisspeltSettingNamesTheClosestValidKey() {
        assertThatThrownBy(() -> new DispatcherConfig(with("wharf.dispatcher.tick.msec", "5"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("did you mean wharf.dispatcher.tick.ms?");
        assertThatThrownBy(() -> new DispatcherConfig(with("security.protocoll", "SSL"))).hasMessageContaining("did you mean security.protocol?");
    }

    @Test
    void kafkaStreamsAndClientSettingsPassThroughIncludingTheRegistrysForTheDeadLetterSerializer() {
        DispatcherConfig config = new DispatcherConfig(with("wharf.registry.bearer.auth.token", "t0ken"));
        assertThat(config.streamsProperties()).containsKey("wharf.registry.bearer.auth.token").containsEntry("wharf.registry.url", "http://127.0.0.1:1");
        assertThat(new DispatcherConfig(with("num.standby.replicas", "1")).streamsProperties()).containsEntry("num.standby.replicas", "1");
    }

    @Test
    void theStreamsProducerRetriesSoonUnlessTheSettingsSayOtherwise() {
        assertThat(new DispatcherConfig(with("num.standby.replicas", "0")).streamsProperties()).containsEntry("producer.retry.backoff.ms", 5);
        assertThat(new DispatcherConfig(with("producer.retry.backoff.ms", "50")).streamsProperties()).containsEntry("producer.retry.backoff.ms", "50");
        assertThat(new DispatcherConfig(with("retry.backoff.ms", "50")).streamsProperties()).containsEntry("retry.backoff.ms", "50")
                .doesNotContainKey("producer.retry.backoff.ms");
    }

    @Test
    void theStreamsProducerLingersForTheCommitIntervalUnlessTheSettingsSayOtherwise() {
        assertThat(new DispatcherConfig(with(DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, "25")).streamsProperties())
                .containsEntry("producer.linger.ms", 25L);
        assertThat(new DispatcherConfig(with("producer.linger.ms", "0")).streamsProperties()).containsEntry("producer.linger.ms", "0");
        assertThat(new DispatcherConfig(with("linger.ms", "2")).streamsProperties()).containsEntry("linger.ms", "2")
                .doesNotContainKey("producer.linger.ms");
    }
}
