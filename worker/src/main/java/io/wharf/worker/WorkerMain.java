package io.wharf.worker;

import io.wharf.ops.RoleMain;
import io.wharf.ops.Telemetry;

/**
 * Runs one worker until the process is stopped: {@code WorkerMain key=value ...} with the keys of
 * {@link WorkerConfig}. SIGTERM drains it; SIGKILL is a crash, after which its jobs run elsewhere. Exit codes as
 * {@link RoleMain} says: 1 when the worker fails (fenced, its brokers lost for good, its loop died), 2 on a bad
 * setting.
 */
public final class WorkerMain {
    private WorkerMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("worker", args, WorkerConfig.configDef(), (settings, metrics, traces) -> new Worker(settings, new Telemetry(metrics.registry(), traces)));
    }
}
