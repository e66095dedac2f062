package io.wharf.serde;

import java.util.Map;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/** Configuration of {@link AvroSerializer} and {@link AvroDeserializer} when Kafka instantiates them by class name. */
public final class AvroSerdeConfig extends AbstractConfig {
    public static final String REGISTRY_URL_CONFIG = "wharf.registry.url";
    private static final String REGISTRY_URL_DOC = "Base URL of a Confluent-compatible schema registry API, "
            + "e.g. http://127.0.0.1:8081/apis/ccompat/v7 for Apicurio Registry.";

    static final ConfigDef DEF = new ConfigDef()
            .define(REGISTRY_URL_CONFIG, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH, REGISTRY_URL_DOC);

    public AvroSerdeConfig(Map<?, ?> props) {
        super(DEF, props, false);
    }
}
