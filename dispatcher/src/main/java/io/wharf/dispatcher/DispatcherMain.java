package io.wharf.dispatcher;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigException;

/**
 * Runs one dispatcher instance until the process is stopped: {@code DispatcherMain key=value ...} with the keys
 * of {@link DispatcherConfig}. Start several with the same application id to share the functions.
 */
public final class DispatcherMain {
    private DispatcherMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> settings = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 1) {
                System.err.println("Argument '" + arg + "' is not key=value; keys are:\n" + DispatcherConfig.configDef().toRst());
                System.exit(2);
            }
            settings.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Dispatcher dispatcher;
        try {
            dispatcher = new Dispatcher(settings);
        } catch (ConfigException e) {
            System.err.println("wharf dispatcher: " + e.getMessage());
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(dispatcher::close, "wharf-dispatcher-shutdown"));
        try {
            dispatcher.start();
        } catch (RuntimeException e) {
            System.err.println("wharf dispatcher: " + e.getMessage());
            System.exit(1);
        }
        while (!dispatcher.awaitStop(Duration.ofDays(1))) {
            // runs until stopped or failed
        }
        System.exit(dispatcher.state() == Dispatcher.State.FAILED ? 1 : 0);
    }
}
