package io.wharf.worker;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs one worker until the process is stopped: {@code WorkerMain key=value ...} with the keys of
 * {@link WorkerConfig}. SIGTERM drains it; SIGKILL is a crash, after which its jobs run elsewhere.
 */
public final class WorkerMain {
    private WorkerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> settings = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 1) {
                System.err.println("Argument '" + arg + "' is not key=value; keys are:\n" + WorkerConfig.configDef().toRst());
                System.exit(2);
            }
            settings.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Worker worker = new Worker(settings).start();
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "wharf-worker-shutdown"));
        Thread.currentThread().join();
    }
}
