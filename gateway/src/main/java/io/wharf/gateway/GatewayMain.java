package io.wharf.gateway;

import io.wharf.ops.RoleMain;

/**
 * Runs one gateway instance until the process is stopped: {@code GatewayMain key=value ...} with the keys of
 * {@link GatewayConfig} (or {@code --config FILE}, or {@code WHARF_GATEWAY_*} variables). Start several, on
 * several hosts, behind one load balancer. Exit codes as {@link RoleMain} says.
 */
public final class GatewayMain {
    private GatewayMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("gateway", args, GatewayConfig::configDef, Gateway::new);
    }
}
