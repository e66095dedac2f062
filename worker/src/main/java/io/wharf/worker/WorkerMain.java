package io.wharf.worker;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigException;

/**
 * Runs one worker until the process is stopped: {@code WorkerMain key=value ...} with the keys of
 * {@link WorkerConfig}. SIGTERM drains it; SIGKILL is a crash, after which its jobs run elsewhere. Exits 0 when
 * stopped, 1 when the worker fails (fenced, or its loop died: a supervisor should restart it), 2 on bad arguments
 * or settings.
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
        Worker worker;
        try {
            worker = new Worker(settings);
        } catch (ConfigException e) {
            System.err.println("wharf worker: " + e.getMessage());
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "wharf-worker-shutdown"));
        worker.start();
        while (!worker.awaitStop(Duration.ofDays(1))) {
            // runs until stopped or failed
        }
        System.exit(worker.state() == Worker.State.FAILED ? 1 : 0);
    }
}
