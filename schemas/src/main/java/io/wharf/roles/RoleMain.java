package io.wharf.roles;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * How a role runs as a process ({@code DispatcherMain}, {@code WorkerMain}): settings as {@code key=value}
 * arguments, SIGTERM stops it gracefully, and the exit code tells a supervisor (systemd, Kubernetes) what happened:
 * 0 stopped, 1 failed (restart it), 2 bad arguments or settings (fix them; a restart will not help).
 */
public final class RoleMain {
    public static final int FAILED = 1;
    public static final int MISCONFIGURED = 2;

    private RoleMain() {
    }

    /** Runs the role {@code create} makes from the arguments until it stops, then exits with its code. */
    public static void run(String name, String[] args, ConfigDef settings, Function<Map<String, String>, Role> create) {
        System.exit(exitCode(name, args, settings, create));
    }

    static int exitCode(String name, String[] args, ConfigDef settings, Function<Map<String, String>, Role> create) {
        Map<String, String> values = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 1) {
                System.err.println("wharf " + name + ": argument '" + arg + "' is not key=value; the keys are:\n" + settings.toRst());
                return MISCONFIGURED;
            }
            values.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Role role;
        try {
            role = create.apply(values);
        } catch (ConfigException e) {
            System.err.println("wharf " + name + ": " + e.getMessage());
            return MISCONFIGURED;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(role::close, "wharf-" + name + "-shutdown"));
        try {
            role.start();
        } catch (RuntimeException e) {
            System.err.println("wharf " + name + ": " + e.getMessage());
            return FAILED;
        }
        while (!role.awaitStop(Duration.ofDays(1))) {
            // runs until stopped or failed
        }
        return role.state() == Role.State.FAILED ? FAILED : 0;
    }
}
