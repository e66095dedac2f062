package io.wharf.sources;

import io.wharf.ops.RoleMain;

/**
 * Runs the sources role alone, until the process is stopped: {@code SourcesMain key=value ...} with the keys of
 * {@link SourcesConfig} (or {@code --config FILE}, or {@code WHARF_SOURCES_*} variables). A gateway runs it too unless
 * {@code wharf.sources.enabled=false}; run it apart to scale triggers apart from HTTP. Exit codes as {@link RoleMain} says.
 */
public final class SourcesMain {
    private SourcesMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("sources", args, SourcesConfig::configDef, (settings, metrics, traces) -> new Sources(settings, metrics));
    }
}
