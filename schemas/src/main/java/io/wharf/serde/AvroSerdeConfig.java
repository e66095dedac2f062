package io.wharf.serde;

import java.util.Map;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;

/** Configuration of {@link AvroSerializer} and {@link AvroDeserializer} when Kafka instantiates them by class name: the {@link RegistrySettings}. */
public final class AvroSerdeConfig extends AbstractConfig {
    public static final String REGISTRY_URL_CONFIG = RegistrySettings.URL_CONFIG;

    static final ConfigDef DEF = RegistrySettings.define(new ConfigDef());

    public AvroSerdeConfig(Map<?, ?> props) {
        super(DEF, props, false);
    }

    public RegistrySettings registry() {
        return RegistrySettings.from(this);
    }
}
