package io.wharf.rules;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.wharf.records.FunctionSpec;
import io.wharf.records.NetworkMode;
import io.wharf.records.PoolPolicy;
import io.wharf.secrets.FunctionSecrets;

/**
 * What a pool's policy lets its functions ask for, decided once for the deploy that refuses a function and the
 * worker that refuses a job that slipped past it (a record written straight to a job topic).
 */
public final class PoolPolicies {
    /** Who a container runs as when its function names no user and its pool does not allow root: nobody. */
    public static final String NON_ROOT_USER = "65534:65534";

    private PoolPolicies() {
    }

    /** The policy of a pool no operator set one for: no host network, no root, no ceilings beyond Wharf's own. */
    public static PoolPolicy defaults(String pool) {
        return PoolPolicy.newBuilder().setPool(pool).setUpdatedAt(Instant.EPOCH).build();
    }

    /** True for a user that is root: uid 0 or the name root, with any group. */
    public static boolean isRoot(String user) {
        if (user == null) {
            return false;
        }
        String uid = user.contains(":") ? user.substring(0, user.indexOf(':')) : user;
        return uid.strip().equals("root") || uid.strip().matches("0+");
    }

    /** Who the function's containers run as under {@code policy}: its user, else the image's (root allowed) or nobody. */
    public static String effectiveUser(PoolPolicy policy, FunctionSpec fn) {
        return fn.getUser() != null && !fn.getUser().isBlank() ? fn.getUser() : policy.getAllowRoot() ? null : NON_ROOT_USER;
    }

    /** Why {@code policy} refuses {@code fn}, naming the setting that would allow it; empty when it does not. */
    public static Optional<String> violation(PoolPolicy policy, FunctionSpec fn) {
        String pool = "pool " + policy.getPool();
        if (fn.getNetwork() == NetworkMode.HOST && !policy.getAllowHostNetwork()) {
            return Optional.of(pool + " does not allow host network (an operator allows it: wharf pool set " + policy.getPool()
                    + " --allow-host-network)");
        }
        if (isRoot(fn.getUser()) && !policy.getAllowRoot()) {
            return Optional.of(pool + " does not allow running as root (user " + fn.getUser() + "; an operator allows it: wharf pool set "
                    + policy.getPool() + " --allow-root)");
        }
        if (policy.getMaxMemoryMb() != null && fn.getMemoryMb() > policy.getMaxMemoryMb()) {
            return Optional.of(pool + " allows at most " + policy.getMaxMemoryMb() + " MiB of memory; the function asks for " + fn.getMemoryMb());
        }
        if (policy.getMaxCpus() != null && fn.getCpus() > policy.getMaxCpus()) {
            return Optional.of(pool + " allows at most " + policy.getMaxCpus() + " CPUs; the function asks for " + fn.getCpus());
        }
        if (policy.getMaxTimeoutMillis() != null && fn.getTimeoutMillis() > policy.getMaxTimeoutMillis()) {
            return Optional.of(pool + " allows a timeout of at most " + policy.getMaxTimeoutMillis() + " ms; the function asks for "
                    + fn.getTimeoutMillis());
        }
        List<String> registries = policy.getAllowedRegistries();
        String host = FunctionSecrets.registryHost(fn);
        if (!registries.isEmpty() && !registries.contains(host)) {
            return Optional.of(pool + " takes images from " + String.join(", ", registries) + " only; the function's image is on " + host);
        }
        return Optional.empty();
    }
}
