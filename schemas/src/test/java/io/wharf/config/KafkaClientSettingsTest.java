package io.wharf.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import io.wharf.config.KafkaClientSettings.Kind;

class KafkaClientSettingsTest {
    private static final ConfigDef OWN = new ConfigDef().define("wharf.role.slots", ConfigDef.Type.INT, 1, ConfigDef.Importance.HIGH, "")
            .define("bootstrap.servers", ConfigDef.Type.LIST, "", ConfigDef.Importance.HIGH, "");

    @Test
    void shouldPassSecuritySettingsToEveryClientThatKnowsThemAndAimPrefixedOnesAtOneKind() {
        KafkaClientSettings settings = new KafkaClientSettings(Map.of("wharf.role.slots", "4", "bootstrap.servers", "b:9092",
                "security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512", "max.poll.records", "7",
                "producer.linger.ms", "9", "consumer.security.protocol", "SSL"), OWN);
        assertThat(settings.of(Kind.PRODUCER)).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("linger.ms", "9").doesNotContainKeys("max.poll.records", "wharf.role.slots", "bootstrap.servers");
        assertThat(settings.of(Kind.CONSUMER)).containsEntry("security.protocol", "SSL").containsEntry("max.poll.records", "7")
                .doesNotContainKey("linger.ms");
        assertThat(settings.of(Kind.ADMIN)).containsEntry("security.protocol", "SASL_SSL").doesNotContainKey("max.poll.records");
    }

    @Test
    void shouldRefuseAKeyThatIsNeitherTheRolesNorAKafkaClientsNamingIt() {
        assertThatThrownBy(() -> new KafkaClientSettings(Map.of("securty.protocol", "SSL"), OWN)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("securty.protocol").hasMessageContaining("did you mean security.protocol?")
                .hasMessageContaining("consumer., producer. or admin.");
        assertThatThrownBy(() -> new KafkaClientSettings(Map.of("wharf.role.slot", "1"), OWN)).hasMessageContaining("did you mean wharf.role.slots?");
        assertThatThrownBy(() -> new KafkaClientSettings(Map.of("producer.no.such", "1"), OWN)).hasMessageContaining("producer.no.such");
    }

    @Test
    void shouldKnowWhichSettingsHoldSecrets() {
        assertThat(KafkaClientSettings.isSecret("sasl.jaas.config", OWN)).isTrue();
        assertThat(KafkaClientSettings.isSecret("producer.ssl.keystore.password", OWN)).isTrue();
        assertThat(KafkaClientSettings.isSecret("security.protocol", OWN)).isFalse();
        assertThat(KafkaClientSettings.isSecret("wharf.role.slots", OWN)).isFalse();
    }
}
