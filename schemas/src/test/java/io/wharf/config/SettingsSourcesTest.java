package io.wharf.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class SettingsSourcesTest {
    private static final ConfigDef OWN = new ConfigDef().define("wharf.worker.slots", ConfigDef.Type.INT, 1, ConfigDef.Importance.HIGH, "")
            .define("bootstrap.servers", ConfigDef.Type.LIST, "", ConfigDef.Importance.HIGH, "");

    @Test
    void shouldMapWharfAndKafkaVariablesToTheirSettings() {
        Map<String, String> settings = SettingsSources.fromEnvironment(Map.of("WHARF_WORKER_SLOTS", "8", "WHARF_BOOTSTRAP_SERVERS", "b:9093",
                "WHARF_KAFKA_SECURITY_PROTOCOL", "SASL_SSL", "WHARF_KAFKA_CONSUMER_MAX_POLL_RECORDS", "5", "WHARF_STATE_FILE", "/x",
                "PATH", "/bin"), OWN, "WHARF_WORKER_");
        assertThat(settings).containsOnly(Map.entry("wharf.worker.slots", "8"), Map.entry("bootstrap.servers", "b:9093"),
                Map.entry("security.protocol", "SASL_SSL"), Map.entry("consumer.max.poll.records", "5"));
    }

    @Test
    void shouldRefuseAMisspeltRoleVariableNamingTheClosest() {
        assertThatThrownBy(() -> SettingsSources.fromEnvironment(Map.of("WHARF_WORKER_SLOTZ", "8"), OWN, "WHARF_WORKER_"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("WHARF_WORKER_SLOTZ").hasMessageContaining("did you mean WHARF_WORKER_SLOTS?")
                .hasMessageNotContaining("8");
    }
}
