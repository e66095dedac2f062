package io.wharf.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.wharf.client.FunctionDefinitions;
import io.wharf.client.WharfClient;
import io.wharf.records.FunctionSpec;
import io.wharf.records.RateLimit;
import io.wharf.records.RegistryAuth;
import io.wharf.records.RetryPolicy;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;
import io.wharf.worker.DockerEngine;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code wharf deploy}: a function from flags and/or a file, through the one mapping they share
 * ({@link FunctionDefinitions}); its image pinned to a digest and its registry password sealed before it is written.
 */
@Command(name = "deploy",
        description = "Register or update a function. The image tag is pinned to the image it names now. Every setting can also be "
                + "given in a YAML or JSON file (-f), with the keys of io.wharf.client.FunctionDefinitions; flags override the file.")
final class DeployCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", arity = "0..1", description = "Function name (or `name` in the -f file).")
    String name;
    @Option(names = "--image", description = "Container image.")
    String image;
    @Option(names = "--cmd", arity = "1..*", description = "Command and arguments (default: the image's CMD).")
    List<String> cmd;
    @Option(names = "--entrypoint", arity = "1..*", description = "Entrypoint and its arguments (default: the image's ENTRYPOINT).")
    List<String> entrypoint;
    @Option(names = "--memory", description = "Memory limit, e.g. 64m, 1g (default 128m).")
    String memory;
    @Option(names = "--cpus", description = "CPU quota in cores (default 1).")
    Double cpus;
    @Option(names = "--timeout", description = "Time limit, e.g. 10s, 2m (default 60s).")
    String timeout;
    @Option(names = "--env", description = "Environment variable K=V (repeatable).")
    Map<String, String> env = new LinkedHashMap<>();
    @Option(names = "--secret-env", description = "Secret environment variable K=V (repeatable), sealed with the key in WHARF_SECRETS_KEY "
            + "before it leaves this process: in Kafka only workers with the key can open it.")
    Map<String, String> secretEnv = new LinkedHashMap<>();
    @Option(names = "--pool", description = "Worker pool (default `default`).")
    String pool;
    @Option(names = "--network", description = "none (default) or host.")
    String network;
    @Option(names = "--user", description = "uid[:gid] or name to run as (default: the image's user).")
    String user;
    @Option(names = "--registry-user", description = "User name for the image's registry (else the Docker config's credentials).")
    String registryUser;
    @Option(names = "--registry-password", description = "Password for the image's registry.", interactive = false)
    String registryPassword;
    @Option(names = "--tenant", description = "Tenant the function belongs to (default `default`); its events must name it.")
    String tenant;
    @Option(names = "--rate", description = "Rate limit, e.g. 10/s, 30/m (events beyond it wait their turn).")
    String rate;
    @Option(names = "--burst", description = "Jobs the rate limit lets through at once after a quiet time (default 1).")
    Integer burst;
    @Option(names = "--max-concurrency", description = "Jobs of this function running at once, at most.")
    Integer maxConcurrency;
    @Option(names = "--max-pending", description = "Events held back by the limits, at most; beyond, THROTTLED (default 10000).")
    Integer maxPending;
    @Option(names = "--priority", description = "0 (high), 1 (default) or 2 (low).")
    Integer priority;
    @Option(names = "--max-age", description = "A job that would start later than this after its event is EXPIRED, e.g. 10m.")
    String maxAge;
    @Option(names = "--max-payload", description = "Largest event payload accepted, e.g. 512k, 6m (default 6m); larger ones are REJECTED.")
    String maxPayload;
    @Option(names = "--ordering", description = "none (default) or key: jobs with the same event key run one after another.")
    String ordering;
    @Option(names = "--hot", description = "Keep warm containers between jobs (the image speaks the hot protocol, see worker/README.md).")
    boolean hot;
    @Option(names = "--hot-idle-ttl", description = "A warm container idle this long is stopped, e.g. 60s (implies --hot).")
    String hotIdleTtl;
    @Option(names = "--hot-max-jobs", description = "Jobs a warm container runs before it is replaced (default 1000; implies --hot).")
    Integer hotMaxJobs;
    @Option(names = "--hot-prewarm", description = "Warm containers started before any job comes (default 0; implies --hot).")
    Integer hotPrewarm;
    @Option(names = "--enabled", negatable = true, description = "Accept events (default); --no-enabled refuses them, keeping the function.")
    Boolean enabled;
    @Option(names = "--content-types", split = ",", description = "Accepted event content types, e.g. application/json,text/*.")
    List<String> contentTypes;
    @Option(names = "--retries", description = "Attempts in all, e.g. 3 (default 1: no retry).")
    Integer retries;
    @Option(names = "--backoff", description = "First retry delay (default 1s).")
    String backoff;
    @Option(names = "--max-backoff", description = "Longest retry delay (default 1m).")
    String maxBackoff;
    @Option(names = "--backoff-multiplier", description = "Each retry delay is the previous one times this (default 2).")
    Double backoffMultiplier;
    @Option(names = "--backoff-jitter", description = "Each delay is drawn within +- this fraction (default 0.2).")
    Double backoffJitter;
    @Option(names = "--retry-on-exit", split = ",", description = "Retry only these exit codes (default: any failure).")
    List<Integer> retryOnExit;
    @Option(names = "--retry-on-status", split = ",", description = "Statuses that are retried (default FAILED,TIMED_OUT).")
    List<String> retryOnStatus;
    @Option(names = "--on-success", split = ",", description = "Functions to run with the result body when a job succeeds.")
    List<String> onSuccess;
    @Option(names = "--on-failure", split = ",", description = "Functions to run with the failed result (JSON) when a job finally fails.")
    List<String> onFailure;
    @Option(names = "--webhook-secret", description = "Shared secret of signed webhooks: POST /hooks/NAME on the gateway runs the function "
            + "for requests signed with it (X-Wharf-Signature, or GitHub's X-Hub-Signature-256). Sealed like --secret-env.")
    String webhookSecret;
    @Option(names = "--http-port", description = "The image is a web server listening on this port: each job starts its container, "
            + "forwards the HTTP request to it (network none keeps its loopback), returns its response and removes it (--hot keeps it).")
    Integer httpPort;
    @Option(names = "--http-response", description = "body (default): a call through the gateway answers 200 with the output; cgi: the "
            + "output may begin with CGI headers (Status: 201, Content-Type: ...) and a blank line.")
    String httpResponse;
    @Option(names = "--payload-key", description = "An RSA public key (PEM file): payloads sent to the function are sealed to it before "
            + "they reach Kafka (JWE, RSA-OAEP-256 + A256GCM); the job opens them with the private key (docs/sources.md).")
    Path payloadKey;
    @Option(names = {"-f", "--file"}, description = "Read the function from a YAML or JSON file; flags override it.")
    Path file;
    @CommandLine.Mixin
    Wharf.Connection connection;

    /** The flags as settings under FunctionDefinitions' keys: the one mapping files and flags share. */
    ObjectNode flags() {
        ObjectNode n = FunctionDefinitions.settings();
        put(n, "name", name);
        put(n, "image", image);
        put(n, "cmd", cmd);
        put(n, "entrypoint", entrypoint);
        put(n, "memory", memory);
        put(n, "cpus", cpus);
        put(n, "timeout", timeout);
        if (!env.isEmpty()) {
            put(n, "env", env);
        }
        if (!secretEnv.isEmpty()) {
            put(n, "secretEnv", secretEnv);
        }
        put(n, "pool", pool);
        put(n, "network", network);
        put(n, "user", user);
        put(n, "tenant", tenant);
        put(n, "rate", rate);
        put(n, "burst", burst);
        put(n, "maxConcurrency", maxConcurrency);
        put(n, "maxPending", maxPending);
        put(n, "priority", priority);
        put(n, "maxAge", maxAge);
        put(n, "maxPayload", maxPayload);
        put(n, "ordering", ordering);
        ObjectNode h = FunctionDefinitions.settings();
        put(h, "idleTtl", hotIdleTtl);
        put(h, "maxJobsPerContainer", hotMaxJobs);
        put(h, "prewarm", hotPrewarm);
        if (hot || !h.isEmpty()) { // any hot setting implies --hot
            n.set("hot", h);
        }
        put(n, "enabled", enabled);
        put(n, "contentTypes", contentTypes);
        ObjectNode r = FunctionDefinitions.settings();
        put(r, "maxAttempts", retries);
        put(r, "backoff", backoff);
        put(r, "maxBackoff", maxBackoff);
        put(r, "multiplier", backoffMultiplier);
        put(r, "jitter", backoffJitter);
        put(r, "onExitCodes", retryOnExit);
        put(r, "onStatuses", retryOnStatus);
        if (!r.isEmpty()) {
            n.set("retry", r);
        }
        put(n, "onSuccess", onSuccess);
        put(n, "onFailure", onFailure);
        put(n, "httpResponse", httpResponse);
        put(n, "webhookSecret", webhookSecret);
        put(n, "httpPort", httpPort);
        if (payloadKey != null) {
            try {
                put(n, "payloadKey", java.nio.file.Files.readString(payloadKey));
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("--payload-key " + payloadKey + " cannot be read: " + e.getMessage(), e);
            }
        }
        return n;
    }

    private static void put(ObjectNode node, String key, Object value) {
        if (value != null) {
            node.set(key, JSON.valueToTree(value));
        }
    }

    /** The function as the file and the flags define it, before its image is pinned and its password sealed. */
    FunctionSpec.Builder definition() throws java.io.IOException {
        FunctionSpec.Builder spec = FunctionSpec.newBuilder();
        if (file != null) {
            FunctionDefinitions.apply(spec, FunctionDefinitions.read(file), file.toString());
        }
        FunctionDefinitions.apply(spec, flags(), "flags");
        if (!spec.hasName() || spec.getName() == null || spec.getName().isBlank()) {
            throw new IllegalArgumentException("No function name: give it as the first argument or as `name` in the file");
        }
        if (!spec.hasImage() || spec.getImage() == null) {
            throw new IllegalArgumentException("No image for function '" + spec.getName() + "': pass --image IMAGE");
        }
        return spec;
    }

    @Override
    public Integer call() throws Exception {
        FunctionSpec.Builder spec = definition();
        if (registryUser != null) {
            spec.setRegistryAuth(RegistryAuth.newBuilder().setUsername(registryUser)
                    .setPassword(registryPassword == null ? "" : registryPassword).build());
        }
        SealedSecrets secrets = SecretsCommand.keysFromEnvironment(); // a bad key fails before the image is pulled
        if (secrets == null && (spec.hasSecretEnv() && !spec.getSecretEnv().isEmpty() || spec.getWebhookSecret() != null)) {
            throw new IllegalArgumentException("Secret environment and webhook secrets are sealed before they leave this process and no key is set: put one in "
                    + SecretsCommand.KEY_ENV + " (or a file named by " + SecretsCommand.KEY_FILE_ENV + "; `wharf secrets key` makes one) "
                    + "and give workers (and gateways, for webhooks) the same key");
        }
        spec.setImageDigest(pin(spec));
        spec.setUpdatedAt(Instant.now());
        FunctionSpec built = sealed(secrets, spec.build());
        try (WharfClient client = connection.client()) {
            client.deploy(built);
            if (client.workers(built.getPool()).orElse(1) == 0) {
                System.err.println("Warning: no worker serves pool " + built.getPool() + " now: its jobs wait until one does"
                        + (built.getMaxJobAgeMillis() == null ? "" : ", and expire past " + built.getMaxJobAgeMillis() + " ms")
                        + ". Start one with wharf.worker.pool=" + built.getPool() + ".");
            }
        }
        System.out.println("Deployed " + built.getName() + ": " + built.getImage() + " pinned to " + built.getImageDigest()
                + " (" + built.getMemoryMb() + " MiB, " + built.getCpus() + " CPU, timeout " + built.getTimeoutMillis() + " ms, pool "
                + built.getPool() + ")");
        System.out.println("  " + policies(built));
        return 0;
    }

    /** What the dispatcher and workers will apply to the function's jobs, in one line, defaults included. */
    static String policies(FunctionSpec fn) {
        List<String> out = new ArrayList<>();
        out.add("tenant " + fn.getTenant());
        out.add("priority " + fn.getPriority());
        RateLimit rate = fn.getRateLimit();
        out.add(rate == null ? "no rate limit" : "rate " + new java.text.DecimalFormat("0.###").format(rate.getPerSecond()) + "/s burst " + rate.getBurst());
        out.add(fn.getMaxConcurrency() == null ? "no concurrency cap" : "at most " + fn.getMaxConcurrency() + " at once");
        out.add("backlog " + fn.getMaxPending());
        if (fn.getMaxJobAgeMillis() != null) {
            out.add("max age " + fn.getMaxJobAgeMillis() + " ms");
        }
        RetryPolicy retry = fn.getRetry();
        if (retry == null || retry.getMaxAttempts() <= 1) {
            out.add("no retry");
        } else {
            out.add(retry.getMaxAttempts() + " attempts (backoff " + retry.getInitialBackoffMillis() + "-" + retry.getMaxBackoffMillis() + " ms"
                    + (retry.getRetryOnExitCodes().isEmpty() ? "" : ", exit codes " + retry.getRetryOnExitCodes()) + ")");
        }
        if (fn.getOrdering() == io.wharf.records.Ordering.KEY) {
            out.add("ordered by key");
        }
        if (fn.getNetwork() == io.wharf.records.NetworkMode.HOST) {
            out.add("host network");
        }
        if (fn.getUser() != null) {
            out.add("user " + fn.getUser());
        }
        if (fn.getHot() != null) {
            out.add("hot (idle " + fn.getHot().getIdleTtlMillis() + " ms, " + fn.getHot().getMaxJobsPerContainer() + " jobs per container, "
                    + fn.getHot().getPrewarm() + " prewarmed)");
        }
        if (!fn.getOnSuccess().isEmpty()) {
            out.add("on success " + String.join(",", fn.getOnSuccess()));
        }
        if (!fn.getOnFailure().isEmpty()) {
            out.add("on failure " + String.join(",", fn.getOnFailure()));
        }
        if (fn.getRegistryAuth() != null) {
            out.add("registry user " + fn.getRegistryAuth().getUsername() + ", password "
                    + (SealedSecrets.isSealed(fn.getRegistryAuth().getPassword()) ? "sealed" : "in clear"));
        }
        if (!fn.getSecretEnv().isEmpty()) {
            out.add("secret env " + String.join(",", fn.getSecretEnv().keySet()) + " sealed"
                    + SealedSecrets.keyIdOf(fn.getSecretEnv().values().iterator().next()).map(id -> " with key " + id).orElse(""));
        }
        return String.join(", ", out);
    }

    /**
     * The function as it will travel in wharf.functions and its jobs: its registry password and secret environment
     * sealed with the keys in {@value SecretsCommand#KEY_ENV} (workers open them with the same keys), or the password in
     * clear with a warning when no key is set.
     */
    private static FunctionSpec sealed(SealedSecrets secrets, FunctionSpec spec) {
        if (secrets != null) {
            return FunctionSecrets.sealAll(secrets, spec);
        }
        if (spec.getRegistryAuth() != null && !SealedSecrets.isSealed(spec.getRegistryAuth().getPassword())) {
            System.err.println("Warning: the registry password of " + spec.getName() + " is stored in clear in wharf.functions and its jobs. "
                    + "Set " + SecretsCommand.KEY_ENV + " here and on workers to seal it (`wharf secrets key` makes a key).");
        }
        return spec;
    }

    /** The registry digest of the image (pulled now if absent), or the local image id. */
    private static String pin(FunctionSpec.Builder spec) {
        RegistryAuth auth = spec.hasRegistryAuth() ? spec.getRegistryAuth() : null;
        try {
            return DockerEngine.pin(spec.getImage(), auth == null ? null : auth.getUsername(), auth == null ? null : auth.getPassword());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while pinning " + spec.getImage(), e);
        } catch (Exception e) {
            throw new IllegalArgumentException("Cannot resolve image " + spec.getImage() + " to a digest: " + e.getMessage()
                    + ". Check the name, that its registry is reachable, and credentials (--registry-user/--registry-password)", e);
        }
    }
}