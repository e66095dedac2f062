package io.wharf.ops;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeSet;

import org.apache.kafka.common.config.ConfigDef;

import io.wharf.config.KafkaClientSettings;
import io.wharf.config.SettingsSources;

/**
 * What {@code --print-config} shows: every setting of a role with the value it runs with and where that value came
 * from (argument, environment variable, file or default), secrets masked, as a properties file an operator can keep.
 */
final class EffectiveSettings {
    static final String FLAG = "--print-config";
    private static final String MASK = "[hidden]";

    private EffectiveSettings() {
    }

    /** The layers a role's settings come from, lowest precedence first. */
    record Layers(String fileName, Map<String, String> file, Map<String, String> environment, Map<String, String> arguments, boolean print) {
        Map<String, String> merged() {
            return SettingsSources.over(SettingsSources.over(file, environment), arguments);
        }

        String source(String key, ConfigDef def) {
            if (arguments.containsKey(key)) {
                return "argument";
            }
            if (environment.containsKey(key)) {
                return "environment " + (def.configKeys().containsKey(key) ? SettingsSources.envName(key)
                        : SettingsSources.kafkaEnvName(key));
            }
            return file.containsKey(key) ? "file " + fileName : "default";
        }
    }

    static void print(String role, Layers layers, ConfigDef def, PrintStream out) {
        Map<String, String> merged = layers.merged();
        TreeSet<String> keys = new TreeSet<>(def.names());
        keys.addAll(merged.keySet());
        out.println("# wharf " + role + ": effective settings (argument > environment > file > default); secrets shown as " + MASK);
        for (String key : keys) {
            String value;
            if (merged.containsKey(key)) {
                value = merged.get(key);
            } else {
                ConfigDef.ConfigKey declared = def.configKeys().get(key);
                value = declared.hasDefault() && declared.defaultValue != null ? ConfigDef.convertToString(declared.defaultValue, declared.type) : "";
            }
            if (KafkaClientSettings.isSecret(key, def) && !value.isEmpty()) {
                value = MASK;
            }
            out.println(key + "=" + value + "    # " + layers.source(key, def));
        }
    }
}
