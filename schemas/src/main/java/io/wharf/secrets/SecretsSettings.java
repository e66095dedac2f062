package io.wharf.secrets;

import java.nio.file.Path;
import java.util.function.Supplier;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The secrets keys of a role that opens or seals functions' secrets (the worker opens them, the gateway seals what
 * its management API is given): {@value SealedSecrets#KEY_SETTING} or {@value SealedSecrets#KEY_FILE_SETTING}, checked
 * at start-up, never an argument (the key is a password-type setting, which roles refuse as one).
 */
public final class SecretsSettings {
    private SecretsSettings() {
    }

    /** Adds both keys to {@code def}; {@code use} says what the role does with them, for the documentation. */
    public static ConfigDef define(ConfigDef def, String use) {
        return def
                .define(SealedSecrets.KEY_SETTING, Type.PASSWORD, null, (name, value) -> {
                    if (value != null) {
                        check(name, () -> SealedSecrets.fromBase64(name, ((Password) value).value()));
                    }
                }, Importance.MEDIUM,
                        "The keys (base64, 256 bits each, comma-separated: `wharf secrets key` makes one) that " + use + ". During a "
                                + "rotation give both the new and the old key. Never an argument: set WHARF_SECRETS_KEY or use "
                                + SealedSecrets.KEY_FILE_SETTING + ".")
                .define(SealedSecrets.KEY_FILE_SETTING, Type.STRING, null, (name, value) -> {
                    if (value != null) {
                        check(name, () -> SealedSecrets.fromFile(name, Path.of((String) value)));
                    }
                }, Importance.MEDIUM,
                        "A file (mode 0600) with the keys of " + SealedSecrets.KEY_SETTING + ", one per line; instead of that setting.");
    }

    /** The keys the settings give, or null for none. */
    public static SealedSecrets from(AbstractConfig config) {
        Password key = config.getPassword(SealedSecrets.KEY_SETTING);
        String file = config.getString(SealedSecrets.KEY_FILE_SETTING);
        if (key != null && file != null) {
            throw new ConfigException(SealedSecrets.KEY_FILE_SETTING, file, "Give " + SealedSecrets.KEY_SETTING + " or "
                    + SealedSecrets.KEY_FILE_SETTING + ", not both");
        }
        return key != null ? SealedSecrets.fromBase64(SealedSecrets.KEY_SETTING, key.value())
                : file != null ? SealedSecrets.fromFile(SealedSecrets.KEY_FILE_SETTING, Path.of(file)) : null;
    }

    private static void check(String setting, Supplier<SealedSecrets> read) {
        try {
            read.get();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(setting, "(hidden)", e.getMessage());
        }
    }
}
