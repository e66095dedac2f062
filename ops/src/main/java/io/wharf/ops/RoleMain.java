package io.wharf.ops;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

import io.wharf.config.KafkaClientSettings;
import io.wharf.config.SettingsSources;

/**
 * How a role runs as a process ({@code DispatcherMain}, {@code WorkerMain}): settings from a file, the environment and
 * {@code key=value} arguments, each over the one before (see {@link SettingsSources}); SIGTERM stops it gracefully,
 * and the exit code tells a supervisor (systemd, Kubernetes) what happened: 0 stopped, 1 failed (restart it), 2 bad
 * arguments or settings (fix them; a restart will not help).
 */
public final class RoleMain {
    public static final int FAILED = 1;
    public static final int MISCONFIGURED = 2;
    /** Wharf's log level ({@code WHARF_LOG_LEVEL}, as the environment or a system property); INFO for a role. */
    public static final String LOG_LEVEL = "WHARF_LOG_LEVEL";
    /** The Kafka clients' log level; WARN for a role, ERROR for the CLI. */
    public static final String KAFKA_LOG_LEVEL = "WHARF_LOG_LEVEL_KAFKA";

    private RoleMain() {
    }

    /**
     * The role's settings from {@code --config FILE}, then the environment, then {@code key=value} arguments (see
     * {@link SettingsSources}).
     *
     * @throws ConfigException for a secret given as an argument, or a role variable of the environment that names no key
     * @throws IllegalArgumentException for an argument that is neither
     */
    static Map<String, String> settings(String name, String[] args, Map<String, String> env, ConfigDef settings) {
        return layers(name, args, env, settings).merged();
    }

    static EffectiveSettings.Layers layers(String name, String[] args, Map<String, String> env, ConfigDef settings) {
        Map<String, String> file = Map.of();
        String fileName = "";
        Map<String, String> given = new HashMap<>();
        boolean print = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals(EffectiveSettings.FLAG)) {
                print = true;
                continue;
            }
            if (arg.equals(SettingsSources.CONFIG_FLAG) || arg.startsWith(SettingsSources.CONFIG_FLAG + "=")) {
                String path = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : i + 1 < args.length ? args[++i] : "";
                if (path.isBlank()) {
                    throw new IllegalArgumentException(SettingsSources.CONFIG_FLAG + " needs a properties file");
                }
                Path config = Path.of(path);
                if (SettingsSources.readableByOthers(config)) {
                    System.err.println("wharf " + name + ": warning: " + config + " may be read by other users; if it holds secrets, chmod 600 it");
                }
                file = SettingsSources.fromFile(SettingsSources.CONFIG_FLAG, config);
                fileName = path;
                continue;
            }
            int eq = arg.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("argument '" + arg + "' is neither key=value, " + SettingsSources.CONFIG_FLAG + " FILE nor "
                        + EffectiveSettings.FLAG);
            }
            String key = arg.substring(0, eq);
            if (KafkaClientSettings.isSecret(key, settings)) {
                throw new ConfigException(key, "(hidden)", "A secret must not be an argument (every local user can read a process's "
                        + "arguments): set " + (key.startsWith("wharf.") ? SettingsSources.envName(key) : SettingsSources.kafkaEnvName(key)) + " or put it in the " + SettingsSources.CONFIG_FLAG + " file");
            }
            given.put(key, arg.substring(eq + 1));
        }
        String rolePrefix = "WHARF_" + name.toUpperCase(Locale.ROOT) + "_";
        return new EffectiveSettings.Layers(fileName, file, SettingsSources.fromEnvironment(env, settings, rolePrefix), given, print);
    }

    /** Makes a role from its settings, recording into the process's meters and traces. */
    @FunctionalInterface
    public interface Factory {
        Role create(Map<String, String> settings, Metrics metrics, io.opentelemetry.api.OpenTelemetry openTelemetry);
    }

    /**
     * Runs the role {@code create} makes from the arguments and the process's {@link Metrics} until it stops, then
     * exits with its code (traces as {@link Traces#fromEnvironment} says). When the role's settings declare a management
     * port ({@link Management}), its metrics and
     * health are served there from before the role starts (so a probe sees it starting) until it stopped.
     */
    public static void run(String name, String[] args, java.util.function.Supplier<ConfigDef> settings, Factory create) {
        // A role says what it does (started, assigned, stopped) unless told otherwise; the CLI keeps quiet. Set before
        // the first logger exists (the settings are made after it, hence a supplier), as logging reads it once.
        if (System.getenv(LOG_LEVEL) == null && System.getProperty(LOG_LEVEL) == null) {
            System.setProperty(LOG_LEVEL, "INFO");
        }
        if (System.getenv(KAFKA_LOG_LEVEL) == null && System.getProperty(KAFKA_LOG_LEVEL) == null) {
            System.setProperty(KAFKA_LOG_LEVEL, "WARN");
        }
        System.exit(exitCode(name, args, System.getenv(), settings.get(), create));
    }

    static int exitCode(String name, String[] args, Map<String, String> env, ConfigDef settings, Factory create) {
        Map<String, String> values;
        Role role;
        Management management;
        if (JobLogs.badFormat(env) != null) {
            System.err.println("wharf " + name + ": " + JobLogs.badFormat(env));
            return MISCONFIGURED;
        }
        try {
            EffectiveSettings.Layers layers = layers(name, args, env, settings);
            values = layers.merged();
            if (layers.print()) {
                EffectiveSettings.print(name, layers, settings, System.out);
            }
            settings.parse(values); // a bad or missing value fails here, naming its key, before anything starts
            management = Management.of(name, settings, values);
            if (layers.print()) {
                return 0;
            }
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("wharf " + name + ": " + e.getMessage() + (e instanceof ConfigException ? "" : "; the keys are:\n" + settings.toRst()));
            return MISCONFIGURED;
        }
        io.opentelemetry.api.OpenTelemetry traces = Traces.fromEnvironment(name, env);
        try (Metrics metrics = new Metrics()) {
            try {
                role = create.create(values, metrics, traces);
            } catch (ConfigException e) {
                System.err.println("wharf " + name + ": " + e.getMessage());
                return MISCONFIGURED;
            }
            metrics.watch(name, role);
            Runtime.getRuntime().addShutdownHook(new Thread(role::close, "wharf-" + name + "-shutdown"));
            try (ManagementServer server = management.serve(metrics, role)) {
                if (server != null) {
                    System.err.println("wharf " + name + ": metrics and health on http://" + management.host() + ":" + server.port()
                            + " (/metrics, /healthz, /readyz)");
                }
                Path target = server == null ? null : ManagementFiles.write(env, name, management.host(), server.port());
                try {
                    role.start();
                    while (!role.awaitStop(Duration.ofDays(1))) {
                        // runs until stopped or failed
                    }
                    return role.state() == Role.State.FAILED ? FAILED : 0;
                } catch (RuntimeException e) {
                    System.err.println("wharf " + name + ": " + e.getMessage());
                    return FAILED;
                } finally {
                    ManagementFiles.remove(target);
                }
            } catch (IllegalStateException e) {
                System.err.println("wharf " + name + ": " + e.getMessage());
                return MISCONFIGURED;
            }
        } finally {
            Traces.close(traces);
        }
    }
}
