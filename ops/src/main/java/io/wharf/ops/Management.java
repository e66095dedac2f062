package io.wharf.ops;

import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;


/**
 * Where a role run as a process serves {@code /metrics}, {@code /healthz} and {@code /readyz}: the keys
 * {@code wharf.<role>.management.host} and {@code .port} that a role declares with {@link #define}. A role embedded in
 * another program (tests, {@code wharf dev}) serves nothing itself; its host shows its meters.
 */
public record Management(String role, String host, int port) {
    public static final String DEFAULT_HOST = "127.0.0.1";

    public static String hostKey(String role) {
        return "wharf." + role + ".management.host";
    }

    public static String portKey(String role) {
        return "wharf." + role + ".management.port";
    }

    /** Declares the role's two management keys, serving on {@code defaultPort} unless told otherwise. */
    public static ConfigDef define(ConfigDef settings, String role, int defaultPort) {
        return settings.define(hostKey(role), Type.STRING, DEFAULT_HOST, Importance.MEDIUM,
                        "Address the role's /metrics, /healthz and /readyz are served on; 0.0.0.0 for every interface (a Prometheus or a "
                                + "Kubernetes probe on another host)")
                .define(portKey(role), Type.INT, defaultPort, Range.between(-1, 65535), Importance.MEDIUM,
                        "Port of the role's /metrics, /healthz and /readyz; 0 for any free one (printed at start), -1 to serve none");
    }

    /** The role's management address from its settings; port -1 (and a role that declares no such keys) serves none. */
    public static Management of(String role, ConfigDef settings, Map<String, String> values) {
        if (!settings.names().contains(portKey(role))) {
            return new Management(role, DEFAULT_HOST, -1);
        }
        Map<String, Object> parsed = settings.parse(values);
        return new Management(role, (String) parsed.get(hostKey(role)), (Integer) parsed.get(portKey(role)));
    }

    /** Starts serving {@code role}'s metrics and health; null when this address serves none. */
    public ManagementServer serve(Metrics metrics, Role served) {
        if (port < 0) {
            return null;
        }
        try {
            return new ManagementServer(host, port, metrics, served).start();
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + " (" + portKey(role) + ", " + hostKey(role) + ")", e);
        }
    }
}
