package io.wharf.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import io.wharf.client.Units;
import io.wharf.client.WharfClient;
import io.wharf.records.PoolPolicy;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code wharf pool}: an operator's policy over what a pool's functions may ask for. Deploys that ask for more are
 * refused; workers refuse jobs that ask for more. A pool without a policy allows neither host network nor root.
 */
@Command(name = "pool", description = "Set or show what a pool's functions may ask for (host network, root, ceilings, registries).",
        subcommands = {PoolCommand.Set.class, PoolCommand.Show.class, PoolCommand.Reset.class})
final class PoolCommand {
    private PoolCommand() {
    }

    static String describe(PoolPolicy p) {
        List<String> out = new ArrayList<>();
        out.add(p.getAllowHostNetwork() ? "host network allowed" : "no host network");
        out.add(p.getAllowRoot() ? "root allowed" : "no root (functions without a user run as 65534:65534)");
        out.add(p.getMaxMemoryMb() == null ? "any memory" : "memory <= " + p.getMaxMemoryMb() + " MiB");
        out.add(p.getMaxCpus() == null ? "any CPUs" : "CPUs <= " + p.getMaxCpus());
        out.add(p.getMaxTimeoutMillis() == null ? "any timeout" : "timeout <= " + p.getMaxTimeoutMillis() + " ms");
        out.add(p.getAllowedRegistries().isEmpty() ? "images from any registry" : "images from " + String.join(", ", p.getAllowedRegistries()));
        return p.getPool() + ": " + String.join(", ", out);
    }

    @Command(name = "set", description = "Replace a pool's policy (what is not given is not allowed, or has no ceiling).")
    static final class Set implements Callable<Integer> {
        @Parameters(index = "0", description = "Pool name.")
        String pool;
        @Option(names = "--allow-host-network", description = "Functions may use network: host (it reaches everything the host does).")
        boolean hostNetwork;
        @Option(names = "--allow-root", description = "Functions may run as root (user 0, or the image's user when they name none).")
        boolean root;
        @Option(names = "--max-memory", description = "The most memory a function may have, e.g. 512m.")
        String maxMemory;
        @Option(names = "--max-cpus", description = "The most CPUs a function may have.")
        Double maxCpus;
        @Option(names = "--max-timeout", description = "The longest timeout a function may have, e.g. 10m.")
        String maxTimeout;
        @Option(names = "--allow-registry", description = "A registry host images may come from (docker.io for Docker Hub names); repeat for more. "
                + "None: any.")
        List<String> registries = new ArrayList<>();
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            if (maxCpus != null && !(maxCpus > 0)) {
                throw new IllegalArgumentException("--max-cpus " + maxCpus + " must be above 0");
            }
            PoolPolicy policy = PoolPolicy.newBuilder().setPool(pool).setAllowHostNetwork(hostNetwork).setAllowRoot(root)
                    .setMaxMemoryMb(maxMemory == null ? null : Units.megabytes("--max-memory", maxMemory)).setMaxCpus(maxCpus)
                    .setMaxTimeoutMillis(maxTimeout == null ? null : Units.duration("--max-timeout", maxTimeout).toMillis())
                    .setAllowedRegistries(registries).setUpdatedAt(Instant.now()).build();
            try (WharfClient client = connection.client()) {
                client.policy(pool, policy);
            }
            System.out.println("Set " + describe(policy));
            return 0;
        }
    }

    @Command(name = "show", description = "Show a pool's policy, or every pool's that has one.")
    static final class Show implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", description = "Pool name (default: all pools with a policy).")
        String pool;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                if (pool != null) {
                    System.out.println(describe(client.policy(pool)));
                } else {
                    Map<String, PoolPolicy> all = client.policies();
                    all.values().forEach(p -> System.out.println(describe(p)));
                    System.out.println("Pools without a policy: no host network, no root, no ceilings.");
                }
            }
            return 0;
        }
    }

    @Command(name = "reset", description = "Remove a pool's policy: back to the defaults (no host network, no root).")
    static final class Reset implements Callable<Integer> {
        @Parameters(index = "0", description = "Pool name.")
        String pool;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                client.policy(pool, null);
            }
            System.out.println("Pool " + pool + " has the default policy.");
            return 0;
        }
    }
}
