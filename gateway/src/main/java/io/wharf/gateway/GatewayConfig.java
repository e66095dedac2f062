package io.wharf.gateway;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.config.KafkaClientSettings;
import io.wharf.gateway.http.CallbackRequests;
import io.wharf.secrets.SealedSecrets;
import io.wharf.secrets.SecretsSettings;
import io.wharf.serde.RegistrySettings;
import io.wharf.sources.SourcesConfig;

/**
 * The gateway's settings: its own ({@code wharf.gateway.*}) beside the client's (where the cluster and the registry
 * are, and Kafka client settings such as TLS and SASL, which pass through to the gateway's {@link WharfClient}).
 */
public final class GatewayConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS_CONFIG = WharfClient.BOOTSTRAP_SERVERS_CONFIG;
    public static final String REGISTRY_URL_CONFIG = RegistrySettings.URL_CONFIG;
    public static final String HOST_CONFIG = "wharf.gateway.host";
    public static final String PORT_CONFIG = "wharf.gateway.port";
    public static final String MAX_BODY_BYTES_CONFIG = "wharf.gateway.max.body.bytes";
    public static final String SYNC_ALLOWANCE_MS_CONFIG = "wharf.gateway.sync.allowance.ms";
    public static final String CALLBACKS_ALLOW_CONFIG = "wharf.gateway.callbacks.allow";
    public static final String CALLBACK_RETRY_MS_CONFIG = "wharf.gateway.callback.retry.ms";
    public static final String STARTUP_TIMEOUT_MS_CONFIG = "wharf.gateway.startup.timeout.ms";
    public static final String STATUS_MAX_JOBS_CONFIG = "wharf.gateway.status.max.jobs";

    private static final ConfigDef DEF = SecretsSettings.define(SourcesConfig.define(RegistrySettings.define(new ConfigDef())), "seal the secret values given "
            + "to PUT /v1/functions and open webhook secrets (the workers' keys); without them the gateway takes no secrets and serves no "
            + "sealed webhook")
            .define(BOOTSTRAP_SERVERS_CONFIG, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.ValidList.anyNonDuplicateValues(false, false),
                    Importance.HIGH, "Kafka brokers to bootstrap from, host:port[,host:port].")
            .define(HOST_CONFIG, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Address the HTTP server binds; put a TLS-terminating proxy in front of it for other hosts.")
            .define(PORT_CONFIG, Type.INT, 8080, Range.between(0, 65_535), Importance.HIGH, "HTTP port; 0 takes a free one (logged at start).")
            .define(MAX_BODY_BYTES_CONFIG, Type.INT, 1_000_000, Range.between(0, 64 << 20), Importance.MEDIUM,
                    "Largest request body a function call takes; larger ones are answered 413. The gateway lowers it at start to "
                            + "what wharf.events takes (its max.message.bytes less room for the event's other fields).")
            .define(SYNC_ALLOWANCE_MS_CONFIG, Type.LONG, 30_000L, Range.between(0, 3_600_000), Importance.MEDIUM,
                    "How long a synchronous call waits beyond the function's timeout (times its attempts) for the result: time to be "
                            + "dispatched, queued and started. Past it the call is answered 504 with the job id; the job goes on.")
            .define(CALLBACKS_ALLOW_CONFIG, Type.LIST, "public,loopback", ConfigDef.ValidList.in(false, "public", "private", "loopback"),
                    Importance.MEDIUM, "Which addresses an X-Callback-Url may reach: public, private (10/8, 172.16/12, 192.168/16, "
                            + "fc00::/7, link-local) and loopback. Leave private out where the gateway can reach internal services.")
            .define(CALLBACK_RETRY_MS_CONFIG, Type.LONG, 600_000L, Range.between(0, 86_400_000), Importance.LOW,
                    "How long a failing callback is retried (exponential backoff from 1 s, up to 60 s between tries).")
            .define(STATUS_MAX_JOBS_CONFIG, Type.INT, 1_000_000, Range.between(1000, 100_000_000), Importance.MEDIUM,
                    "Job states each instance holds in memory (about 300 bytes each) to answer /v1/jobs; past it the least recently "
                            + "updated are forgotten (404) though wharf.status keeps them 7 days.")
            .define(STARTUP_TIMEOUT_MS_CONFIG, Type.LONG, 120_000L, Range.between(0, 3_600_000), Importance.LOW,
                    "How long start-up waits to have read the functions and API keys before it fails.");

    /** @throws ConfigException naming a key that is missing or invalid, or neither a gateway nor a Kafka client setting */
    public GatewayConfig(Map<?, ?> props) {
        super(DEF, props, false);
        new KafkaClientSettings(clientSettings(), WharfClient.SETTINGS); // checks the pass-through keys now, naming a misspelt one
    }

    public static ConfigDef configDef() {
        return DEF;
    }

    Endpoints endpoints() {
        return new Endpoints(String.join(",", getList(BOOTSTRAP_SERVERS_CONFIG)), getString(REGISTRY_URL_CONFIG));
    }

    /** What the gateway's client takes: its own keys and Kafka's, not the gateway's (its port, its secrets keys). */
    Map<String, Object> clientSettings() {
        return WharfClient.clientSettings(originals(), DEF.names());
    }

    /** What the sources role it hosts takes: the client's settings and the role's own keys. */
    Map<String, Object> sourcesSettings() {
        Map<String, Object> settings = clientSettings();
        originals().forEach((key, value) -> {
            if (key.startsWith("wharf.sources.") || key.equals(SealedSecrets.KEY_SETTING) || key.equals(SealedSecrets.KEY_FILE_SETTING)) {
                settings.put(key, value);
            }
        });
        return settings;
    }

    SealedSecrets secrets() {
        return SecretsSettings.from(this);
    }

    Duration syncAllowance() {
        return Duration.ofMillis(getLong(SYNC_ALLOWANCE_MS_CONFIG));
    }

    List<CallbackRequests.Reach> callbacksAllowed() {
        return getList(CALLBACKS_ALLOW_CONFIG).stream().map(s -> CallbackRequests.Reach.valueOf(s.toUpperCase(java.util.Locale.ROOT))).toList();
    }
}
