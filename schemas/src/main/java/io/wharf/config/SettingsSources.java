package io.wharf.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Where a role's or the CLI's settings come from, lowest precedence first: a properties file ({@code --config FILE}),
 * the environment, then arguments ({@code key=value}, or the CLI's flags). Secrets (passwords, keys, JAAS configs)
 * belong in the first two: arguments are readable by every local user in {@code /proc}.
 *
 * <p>Environment names: {@code WHARF_KAFKA_} + a Kafka client setting in upper case with dots as underscores
 * ({@code WHARF_KAFKA_SECURITY_PROTOCOL=SASL_SSL}, {@code WHARF_KAFKA_SASL_JAAS_CONFIG=...},
 * {@code WHARF_KAFKA_CONSUMER_MAX_POLL_RECORDS=...}); a Wharf setting the same way without its {@code wharf.}
 * ({@code wharf.worker.slots} is {@code WHARF_WORKER_SLOTS}, {@code bootstrap.servers} is
 * {@code WHARF_BOOTSTRAP_SERVERS}).
 */
public final class SettingsSources {
    public static final String CONFIG_FLAG = "--config";
    public static final String KAFKA_ENV_PREFIX = "WHARF_KAFKA_";

    private SettingsSources() {
    }

    /** A properties file's settings; {@code setting} names where the path came from, for errors. */
    public static Map<String, String> fromFile(String setting, Path file) {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            props.load(in);
        } catch (IOException e) {
            throw new ConfigException(setting, file.toString(), "Cannot read the settings file: " + e.getMessage());
        }
        Map<String, String> settings = new HashMap<>();
        props.stringPropertyNames().forEach(key -> settings.put(key, props.getProperty(key).trim()));
        return settings;
    }

    /** True when a file other users may read (a settings file that holds secrets should be 0600). */
    public static boolean readableByOthers(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            return perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * The settings the environment gives: every {@code WHARF_KAFKA_*} variable as a Kafka client setting, and the
     * variable of each of {@code own}'s keys. A variable that starts with {@code strictPrefix} (a role's own,
     * {@code WHARF_WORKER_}) but names none of its keys fails, naming the closest.
     */
    public static Map<String, String> fromEnvironment(Map<String, String> env, ConfigDef own, String strictPrefix) {
        Map<String, String> settings = new HashMap<>();
        Map<String, String> ownByEnvName = new HashMap<>();
        own.names().forEach(key -> ownByEnvName.put(envName(key), key));
        env.forEach((name, value) -> {
            if (ownByEnvName.containsKey(name)) {
                settings.put(ownByEnvName.get(name), value);
            } else if (name.startsWith(KAFKA_ENV_PREFIX) && name.length() > KAFKA_ENV_PREFIX.length()) {
                settings.put(name.substring(KAFKA_ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.'), value);
            } else if (strictPrefix != null && name.startsWith(strictPrefix)) {
                throw new ConfigException(name, "(hidden)", "Not a setting of this role" + Suggestions.closest(name, ownByEnvName.keySet()));
            }
        });
        return settings;
    }

    /** The environment variable of a Wharf setting: {@code wharf.worker.slots} is {@code WHARF_WORKER_SLOTS}. */
    public static String envName(String key) {
        String bare = key.startsWith("wharf.") ? key.substring("wharf.".length()) : key;
        return "WHARF_" + bare.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The environment variable of a Kafka client setting: {@code sasl.jaas.config} is {@code WHARF_KAFKA_SASL_JAAS_CONFIG}. */
    public static String kafkaEnvName(String key) {
        return KAFKA_ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    /** {@code lower}, then {@code higher} over it. */
    public static Map<String, String> over(Map<String, String> lower, Map<String, String> higher) {
        Map<String, String> merged = new HashMap<>(lower);
        merged.putAll(higher);
        return merged;
    }
}
