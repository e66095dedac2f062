package io.wharf.sources;

import java.util.Map;
import java.util.UUID;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.config.KafkaClientSettings;
import io.wharf.ops.Management;
import io.wharf.secrets.SealedSecrets;
import io.wharf.secrets.SecretsSettings;
import io.wharf.serde.RegistrySettings;

/**
 * The sources role's settings: its own ({@code wharf.sources.*}) beside where the cluster and the registry are and the
 * Kafka client settings (TLS, SASL) that pass through to its consumers and producers. A gateway that hosts the role
 * takes these keys too ({@link #define}).
 */
public final class SourcesConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS_CONFIG = WharfClient.BOOTSTRAP_SERVERS_CONFIG;
    public static final String REGISTRY_URL_CONFIG = RegistrySettings.URL_CONFIG;
    public static final String ENABLED_CONFIG = "wharf.sources.enabled";
    public static final String ID_CONFIG = "wharf.sources.id";
    public static final String FILE_ROOTS_CONFIG = "wharf.sources.files.roots";

    /** Where a sources role of its own serves /metrics, /healthz and /readyz (a gateway hosting it serves them on its port). */
    public static final int MANAGEMENT_PORT = 9472;

    private static final ConfigDef DEF = Management.define(SecretsSettings.define(define(RegistrySettings.define(new ConfigDef())),
            "open a database trigger's sealed password (the keys wharf trigger create sealed it with)"), "sources", MANAGEMENT_PORT)
            .define(BOOTSTRAP_SERVERS_CONFIG, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.ValidList.anyNonDuplicateValues(false, false),
                    Importance.HIGH, "Kafka brokers to bootstrap from, host:port[,host:port].");

    /** Adds the role's own keys to {@code def}: a gateway's settings, which host the role. */
    public static ConfigDef define(ConfigDef def) {
        return def
                .define(ENABLED_CONFIG, Type.BOOLEAN, true, Importance.MEDIUM,
                        "Whether this process runs the triggers (wharf trigger): every instance that does shares their work, "
                                + "each trigger's partitions spread over them.")
                .define(FILE_ROOTS_CONFIG, Type.LIST, "", Importance.MEDIUM,
                        "Absolute directories file triggers may watch (each directory, or one under it): the role reads and moves "
                                + "the files there. Empty: no file trigger runs here.")
                .define(ID_CONFIG, Type.STRING, "", Importance.LOW,
                        "This instance's name in the triggers' transactional ids; empty: a new one at each start. Give each "
                                + "instance its own.");
    }

    /** @throws ConfigException naming a key that is missing or invalid, or neither a setting of the role nor a Kafka client's */
    public SourcesConfig(Map<?, ?> props) {
        super(DEF, props, false);
        kafka();
    }

    public static ConfigDef configDef() {
        return DEF;
    }

    Endpoints endpoints() {
        return new Endpoints(String.join(",", getList(BOOTSTRAP_SERVERS_CONFIG)), getString(REGISTRY_URL_CONFIG));
    }

    /** What the role's client takes: the registry's and Kafka's keys, not the role's own. */
    Map<String, Object> clientSettings() {
        return WharfClient.clientSettings(originals(), DEF.names());
    }

    KafkaClientSettings kafka() {
        return new KafkaClientSettings(clientSettings(), WharfClient.SETTINGS);
    }

    /** The keys that open a database trigger's sealed password; null when none are set. */
    SealedSecrets secrets() {
        return SecretsSettings.from(this);
    }

    java.util.List<java.nio.file.Path> fileRoots() {
        return getList(FILE_ROOTS_CONFIG).stream().map(java.nio.file.Path::of).toList();
    }

    String instanceId() {
        String id = getString(ID_CONFIG);
        return id.isBlank() ? UUID.randomUUID().toString().substring(0, 8) : id;
    }
}
