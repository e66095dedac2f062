package io.wharf.dispatcher;

import io.wharf.ops.RoleMain;
import io.wharf.ops.Telemetry;

/**
 * Runs one dispatcher instance until the process is stopped: {@code DispatcherMain key=value ...} with the keys
 * of {@link DispatcherConfig}. Start several with the same application id to share the functions. Exit codes as
 * {@link RoleMain} says: 1 when it fails, 2 on a bad setting.
 */
public final class DispatcherMain {
    private DispatcherMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("dispatcher", args, DispatcherConfig::configDef, (settings, metrics, traces) -> new Dispatcher(settings, new Telemetry(metrics.registry(), traces)));
    }
}
