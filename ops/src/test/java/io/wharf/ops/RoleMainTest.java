package io.wharf.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoleMainTest {
    private static final ConfigDef OWN = new ConfigDef().define("wharf.worker.slots", ConfigDef.Type.INT, 1, ConfigDef.Importance.HIGH, "")
            .define("wharf.worker.pool", ConfigDef.Type.STRING, "default", ConfigDef.Importance.HIGH, "")
            .define("wharf.secrets.key", ConfigDef.Type.PASSWORD, null, ConfigDef.Importance.HIGH, "");

    @TempDir
    Path dir;

    @Test
    void shouldTakeArgumentsOverTheEnvironmentOverTheFile() throws IOException {
        Path file = Files.writeString(dir.resolve("worker.properties"),
                "wharf.worker.slots=2\nwharf.worker.pool=files\nsecurity.protocol=SSL\nsasl.jaas.config=secret\n");
        Map<String, String> settings = RoleMain.settings("worker", new String[] {"--config", file.toString(), "wharf.worker.slots=9"},
                Map.of("WHARF_WORKER_SLOTS", "5", "WHARF_WORKER_POOL", "env", "WHARF_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"), OWN);
        assertThat(settings).containsEntry("wharf.worker.slots", "9").containsEntry("wharf.worker.pool", "env")
                .containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.jaas.config", "secret");
        assertThat(RoleMain.settings("worker", new String[] {"--config=" + file}, Map.of(), OWN)).containsEntry("wharf.worker.pool", "files");
    }

    @Test
    void shouldRefuseSecretsOnTheCommandLineSayingWhereToPutThem() {
        assertThatThrownBy(() -> RoleMain.settings("worker", new String[] {"wharf.secrets.key=abc"}, Map.of(), OWN))
                .isInstanceOf(ConfigException.class).hasMessageContaining("WHARF_SECRETS_KEY").hasMessageNotContaining("abc");
        assertThatThrownBy(() -> RoleMain.settings("worker", new String[] {"sasl.jaas.config=x"}, Map.of(), OWN))
                .hasMessageContaining("WHARF_KAFKA_SASL_JAAS_CONFIG");
        assertThat(RoleMain.settings("worker", new String[0], Map.of("WHARF_SECRETS_KEY", "abc"), OWN)).containsEntry("wharf.secrets.key", "abc");
    }

    @Test
    void shouldRefuseAnArgumentThatIsNoSetting() {
        assertThatThrownBy(() -> RoleMain.settings("worker", new String[] {"slots"}, Map.of(), OWN)).hasMessageContaining("'slots'");
        assertThatThrownBy(() -> RoleMain.settings("worker", new String[] {"--config"}, Map.of(), OWN)).hasMessageContaining("--config needs");
        assertThatThrownBy(() -> RoleMain.settings("worker", new String[] {"--config", dir.resolve("none").toString()}, Map.of(), OWN))
                .isInstanceOf(ConfigException.class).hasMessageContaining("Cannot read");
        assertThat(new Password("x").toString()).isEqualTo("[hidden]");
    }

    @Test
    void anUnknownLogFormatStopsTheRoleAtStartNamingTheVariable() {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.err;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertThat(RoleMain.exitCode("worker", new String[0], Map.of("WHARF_LOG_FORMAT", "xml"), OWN, (s, m, t) -> {
                throw new AssertionError("not made");
            })).isEqualTo(RoleMain.MISCONFIGURED);
        } finally {
            System.setErr(original);
        }
        assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("WHARF_LOG_FORMAT=xml", "text", "json");
    }

    @Test
    void printConfigShowsEachSettingWithItsSourceAndMasksSecretsThenExits() throws IOException {
        Path file = Files.writeString(dir.resolve("worker.properties"), "wharf.worker.pool=files\nsasl.jaas.config=very-secret\n");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.out;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertThat(RoleMain.exitCode("worker", new String[] {"--config", file.toString(), "--print-config", "wharf.worker.slots=9"},
                    Map.of("WHARF_SECRETS_KEY", "abc", "WHARF_KAFKA_SECURITY_PROTOCOL", "SSL"), OWN, (s, m, t) -> {
                        throw new AssertionError("printing starts nothing");
                    })).isZero();
        } finally {
            System.setOut(original);
        }
        assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8).lines()).contains(
                "wharf.worker.slots=9    # argument",
                "wharf.worker.pool=files    # file " + file,
                "wharf.secrets.key=[hidden]    # environment WHARF_SECRETS_KEY",
                "security.protocol=SSL    # environment WHARF_KAFKA_SECURITY_PROTOCOL",
                "sasl.jaas.config=[hidden]    # file " + file)
                .noneMatch(l -> l.contains("very-secret") || l.contains("abc"));
    }
}
