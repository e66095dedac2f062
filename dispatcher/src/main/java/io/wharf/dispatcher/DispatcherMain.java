package io.wharf.dispatcher;

import java.util.HashMap;
import java.util.Map;

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
        Dispatcher dispatcher = new Dispatcher(settings).start();
        Runtime.getRuntime().addShutdownHook(new Thread(dispatcher::close, "wharf-dispatcher-shutdown"));
        Thread.currentThread().join();
    }
}
