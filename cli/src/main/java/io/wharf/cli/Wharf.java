package io.wharf.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.DockerClient;

import io.wharf.client.WharfClient;
import io.wharf.client.Endpoints;
import io.wharf.client.Units;
import io.wharf.client.FunctionDefinitions;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.RateLimit;
import io.wharf.records.RegistryAuth;
import io.wharf.records.RetryPolicy;
import io.wharf.records.TenantSpec;
import io.wharf.records.Timings;
import io.wharf.secrets.SealedSecrets;
import io.wharf.embedded.LocalImages;
import io.wharf.worker.docker.DockerClients;
import io.wharf.worker.docker.ImagePins;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code wharf} command. */
@Command(name = "wharf", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, version = "wharf 0.1.0",
        description = "Serverless container jobs on Apache Kafka.",
        subcommands = {Wharf.Dev.class, Wharf.Deploy.class, Wharf.Invoke.class, Wharf.Results.class, Wharf.Cancel.class, ScheduleCommand.class,
                Wharf.Tenant.class, Wharf.SecretsKey.class, SchemasCommand.class, Wharf.Demo.class, Wharf.Completion.class})
public final class Wharf {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Wharf())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("wharf: " + e.getMessage());
                    return 2;
                });
    }

    /** Options shared by the commands that talk to an installation. */
    static class Connection {
        @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: the running `wharf dev`).")
        String bootstrap;
        @Option(names = "--registry", description = "Schema registry URL, Confluent API (default: the running `wharf dev`).")
        String registry;

        WharfClient client() {
            return new WharfClient(Endpoints.resolve(bootstrap, registry));
        }
    }

    @Command(name = "dev", description = "Run broker, schema registry, dispatcher and worker in this process; Ctrl-C stops everything.")
    static final class Dev implements Callable<Integer> {
        @Option(names = "--slots", defaultValue = "4", description = "Jobs the worker runs at once (default ${DEFAULT-VALUE}).")
        int slots;

        @Override
        public Integer call() throws InterruptedException {
            System.out.println("Starting Wharf (embedded broker, schema registry, dispatcher, worker)...");
            try (DockerClient docker = DockerClients.fromEnvironment()) {
                // The tour's images, built locally (no registry needed), so its first deploy works on a fresh machine.
                LocalImages.demo(docker);
                LocalImages.busybox(docker);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("Could not build the local images: " + e.getMessage(), e);
            }
            DevCluster cluster = DevCluster.start(slots, true);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.out.println("Stopping Wharf...");
                cluster.close();
                System.out.println("Stopped; no container left behind.");
                stopped.countDown();
            }, "wharf-dev-stop"));
            Endpoints e = cluster.endpoints();
            System.out.println("Wharf is running.");
            System.out.println("  Kafka bootstrap   " + e.bootstrap());
            System.out.println("  Schema registry   " + e.registry());
            System.out.println("  Worker            " + cluster.workerId() + " (pool default, " + slots + " slots)");
            System.out.println("  Endpoints file    " + Endpoints.stateFile());
            System.out.println("Try: ./wharf deploy hello --image " + LocalImages.DEMO + "   then   ./wharf invoke hello --data world");
            stopped.await();
            return 0;
        }
    }

    @Command(name = "deploy",
            description = "Register or update a function. The image tag is pinned to the image it names now. Every setting can also be "
                    + "given in a YAML or JSON file (-f), with the keys of io.wharf.client.FunctionDefinitions; flags override the file.")
    static final class Deploy implements Callable<Integer> {
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
        @Option(names = {"-f", "--file"}, description = "Read the function from a YAML or JSON file; flags override it.")
        Path file;
        @CommandLine.Mixin
        Connection connection;

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
            if (hot || hotIdleTtl != null || hotMaxJobs != null || hotPrewarm != null) {
                ObjectNode h = n.putObject("hot");
                put(h, "idleTtl", hotIdleTtl);
                put(h, "maxJobsPerContainer", hotMaxJobs);
                put(h, "prewarm", hotPrewarm);
            }
            put(n, "enabled", enabled);
            put(n, "contentTypes", contentTypes);
            if (retries != null || backoff != null || maxBackoff != null || backoffMultiplier != null || backoffJitter != null
                    || retryOnExit != null || retryOnStatus != null) {
                ObjectNode r = n.putObject("retry");
                put(r, "maxAttempts", retries);
                put(r, "backoff", backoff);
                put(r, "maxBackoff", maxBackoff);
                put(r, "multiplier", backoffMultiplier);
                put(r, "jitter", backoffJitter);
                put(r, "onExitCodes", retryOnExit);
                put(r, "onStatuses", retryOnStatus);
            }
            put(n, "onSuccess", onSuccess);
            put(n, "onFailure", onFailure);
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
            SealedSecrets secrets = SecretsKey.fromEnvironment(); // a bad key fails before the image is pulled
            spec.setImageDigest(pin(spec));
            if (spec.hasRegistryAuth() && spec.getRegistryAuth() != null) {
                spec.setRegistryAuth(sealed(secrets, spec.getName(), spec.getRegistryAuth()));
            }
            spec.setUpdatedAt(Instant.now());
            FunctionSpec built = spec.build();
            try (WharfClient client = connection.client()) {
                client.deploy(built);
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
            return String.join(", ", out);
        }

        /**
         * The credentials as they will travel in wharf.functions and the function's jobs: the password sealed with
         * the key in {@value SecretsKey#ENV} (workers open it with the same key in wharf.secrets.key), or in clear
         * with a warning when no key is set.
         */
        private static RegistryAuth sealed(SealedSecrets secrets, String function, RegistryAuth auth) {
            if (SealedSecrets.isSealed(auth.getPassword())) {
                return auth;
            }
            if (secrets == null) {
                System.err.println("Warning: the registry password of " + function + " is stored in clear in wharf.functions and its jobs. "
                        + "Set " + SecretsKey.ENV + " here and wharf.secrets.key on workers to seal it (`wharf secrets-key` makes a key).");
                return auth;
            }
            return RegistryAuth.newBuilder(auth).setPassword(secrets.seal(auth.getPassword(), function)).build();
        }

        /** The registry digest of the image (pulled now if absent), or the local image id. */
        private static String pin(FunctionSpec.Builder spec) {
            try (DockerClient docker = DockerClients.fromEnvironment()) {
                return ImagePins.pin(docker, spec.getImage(), spec.hasRegistryAuth() && spec.getRegistryAuth() != null ? spec.getRegistryAuth().getUsername() : null,
                        spec.hasRegistryAuth() && spec.getRegistryAuth() != null ? spec.getRegistryAuth().getPassword() : null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while pinning " + spec.getImage(), e);
            } catch (Exception e) {
                throw new IllegalArgumentException("Cannot resolve image " + spec.getImage() + " to a digest: " + e.getMessage()
                        + ". Check the name, that its registry is reachable, and credentials (--registry-user/--registry-password)", e);
            }
        }
    }

    @Command(name = "invoke", description = "Run a function once and print its output; exits 0 only if the job SUCCEEDED.")
    static final class Invoke implements Callable<Integer> {
        @Parameters(index = "0", description = "Function name.")
        String name;
        @Option(names = "--data", description = "Payload text.")
        String data;
        @Option(names = "--file", description = "Payload file.")
        Path file;
        @Option(names = "--content-type", defaultValue = "application/octet-stream")
        String contentType;
        @Option(names = "--wait", defaultValue = "120s", description = "How long to wait for the result (default ${DEFAULT-VALUE}).")
        String wait;
        @Option(names = "--priority", description = "0 (high) to 2 (low); default: the function's.")
        Integer priority;
        @Option(names = "--delay", description = "Run no sooner than this from now, e.g. 30s.")
        String delay;
        @Option(names = "--key", description = "Ordering key (for functions deployed with ordering=key).")
        String key;
        @Option(names = "--fan-out", description = "The payload is a JSON array: one job per element, one aggregate result.")
        boolean fanOut;
        @Option(names = "--tenant", defaultValue = "default", description = "The function's tenant (default ${DEFAULT-VALUE}).")
        String tenant;
        @CommandLine.Mixin
        Connection connection;

        @Override
        public Integer call() throws Exception {
            if (data != null && file != null) {
                throw new IllegalArgumentException("Give --data or --file, not both");
            }
            byte[] payload = file != null ? Files.readAllBytes(file) : data != null ? data.getBytes(StandardCharsets.UTF_8) : new byte[0];
            try (WharfClient client = connection.client()) {
                Event event = client.event(name, payload, fanOut && contentType.equals("application/octet-stream") ? "application/json" : contentType);
                event.setPriority(priority);
                event.setKey(key);
                event.setFanOut(fanOut);
                event.setTenant(tenant);
                Duration timeout = Units.duration("--wait", wait);
                if (delay != null) {
                    Duration d = Units.duration("--delay", delay);
                    event.setRunAt(Instant.now().plus(d));
                    timeout = timeout.plus(d);
                }
                JobResult result = client.invoke(event, timeout);
                byte[] body = new byte[result.getBody().remaining()];
                result.getBody().get(body);
                System.out.write(body);
                System.out.flush();
                if (result.getStatus() == JobStatus.SUCCEEDED) {
                    return 0;
                }
                PrintStream err = System.err;
                err.println("Job " + result.getJobId() + " " + result.getStatus() + ": " + result.getError());
                if (result.getStderrTail() != null) {
                    err.println("--- stderr (tail) ---");
                    err.print(result.getStderrTail());
                }
                return 1;
            } catch (TimeoutException e) {
                System.err.println(e.getMessage());
                return 3;
            }
        }
    }

    @Command(name = "results", description = "Print results as they arrive: job id, function, status, container lifetime.")
    static final class Results implements Callable<Integer> {
        @Option(names = "--follow", description = "Keep printing new results (the default; Ctrl-C to stop).")
        boolean follow = true;
        @Option(names = "--from-beginning", description = "Start with the oldest result kept.")
        boolean fromBeginning;
        @CommandLine.Mixin
        Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                client.follow(fromBeginning, r -> System.out.println(line(r)));
            }
            return 0;
        }
    }

    @Command(name = "secrets-key", description = "Print a new key for sealing functions' registry passwords.")
    static final class SecretsKey implements Callable<Integer> {
        /** Where deploy (and the dev cluster's worker) find the key. */
        static final String ENV = "WHARF_SECRETS_KEY";

        /** The key in {@link #ENV}, or null when it is not set. */
        static SealedSecrets fromEnvironment() {
            String key = System.getenv(ENV);
            return key == null || key.isBlank() ? null : SealedSecrets.fromBase64(ENV, key);
        }

        @Override
        public Integer call() {
            System.out.println(SealedSecrets.newKey());
            System.err.println("Give it to `wharf deploy` in " + ENV + " and to every worker as wharf.secrets.key; keep it out of Kafka.");
            return 0;
        }
    }

    @Command(name = "cancel", description = "Cancel a job: its container is killed if it runs, it is skipped if it waits; its result says CANCELLED.")
    static final class Cancel implements Callable<Integer> {
        @Parameters(index = "0", description = "Job id (the event id).")
        String jobId;
        @Option(names = "--reason", defaultValue = "cancelled by user", description = "Recorded in the result (default: ${DEFAULT-VALUE}).")
        String reason;
        @CommandLine.Mixin
        Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                client.cancel(jobId, reason);
            }
            System.out.println("Cancel requested for job " + jobId);
            return 0;
        }
    }

    @Command(name = "tenant", description = "Set limits shared by all functions of a tenant (jobs per second, jobs at once, backlog).")
    static final class Tenant implements Callable<Integer> {
        @Parameters(index = "0", description = "Tenant name (functions and events name their tenant; default `default`).")
        String name;
        @Option(names = "--rate", description = "Jobs per second across the tenant's functions, e.g. 50/s.")
        String rate;
        @Option(names = "--burst", defaultValue = "1", description = "Jobs let through at once after a quiet time (default ${DEFAULT-VALUE}).")
        int burst;
        @Option(names = "--max-concurrency", description = "Jobs of the tenant running at once, at most.")
        Integer maxConcurrency;
        @Option(names = "--max-pending", defaultValue = "10000", description = "Jobs held back at most; beyond, THROTTLED (default ${DEFAULT-VALUE}).")
        int maxPending;
        @Option(names = "--clear", description = "Remove the tenant's limits.")
        boolean clear;
        @CommandLine.Mixin
        Connection connection;

        @Override
        public Integer call() {
            if (clear == (rate != null || maxConcurrency != null)) {
                throw new IllegalArgumentException("Give --rate and/or --max-concurrency, or --clear");
            }
            TenantSpec spec = clear ? null : TenantSpec.newBuilder().setName(name)
                    .setRateLimit(rate == null ? null : RateLimit.newBuilder().setPerSecond(Units.perSecond("--rate", rate)).setBurst(burst).build())
                    .setMaxConcurrency(maxConcurrency).setMaxPending(maxPending).setUpdatedAt(Instant.now()).build();
            try (WharfClient client = connection.client()) {
                client.tenant(name, spec);
            }
            System.out.println(clear ? "Tenant " + name + ": limits removed" : "Tenant " + name + ": " + (rate == null ? "" : rate + " (burst " + burst + ") ")
                    + (maxConcurrency == null ? "" : maxConcurrency + " at once ") + "backlog " + maxPending);
            return 0;
        }
    }

    static String line(JobResult r) {
        Timings t = r.getTimings();
        String lifetime = t.getStartedAt() != null && t.getExitedAt() != null ? (t.getExitedAt() - t.getStartedAt()) + " ms" : "-";
        String total = t.getEventCreatedAt() != null && t.getFinishedAt() != null ? (t.getFinishedAt() - t.getEventCreatedAt()) + " ms" : "-";
        return String.format("%-38s %-20s %-11s lifetime %-9s end-to-end %s%s", r.getJobId(), r.getFunction(), r.getStatus(), lifetime, total,
                r.getError() == null ? "" : "  " + r.getError());
    }

    @Command(name = "completion", description = "Print a completion script for bash: source <(./wharf completion bash).")
    static final class Completion implements Callable<Integer> {
        @Parameters(index = "0", defaultValue = "bash", description = "Shell (bash; zsh reads it too with bashcompinit).")
        String shell;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (!shell.equals("bash") && !shell.equals("zsh")) {
                throw new IllegalArgumentException("No completion for shell '" + shell + "': use bash (zsh can load it with bashcompinit)");
            }
            System.out.print(picocli.AutoComplete.bash("wharf", spec.root().commandLine()));
            return 0;
        }
    }

    @Command(name = "demo", description = "Start the embedded default, deploy a demo function from a locally built image, run a few jobs, stop.")
    static final class Demo implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            System.out.println("Building the demo image " + LocalImages.DEMO + " (FROM scratch + static busybox)...");
            try (DockerClient docker = DockerClients.fromEnvironment()) {
                LocalImages.demo(docker);
            }
            System.out.println("Starting Wharf (embedded broker, schema registry, dispatcher, worker)...");
            long begin = System.nanoTime();
            try (DevCluster cluster = DevCluster.start(4, false)) {
                System.out.printf("Wharf started in %d ms: Kafka on %s, registry on %s%n", (System.nanoTime() - begin) / 1_000_000,
                        cluster.endpoints().bootstrap(), cluster.endpoints().registry());
                CommandLine cli = commandLine();
                List<String> connection = List.of("--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry());
                List<String> deploy = new ArrayList<>(List.of("deploy", "hello", "--image", LocalImages.DEMO, "--memory", "32m", "--timeout", "10s"));
                deploy.addAll(connection);
                if (cli.execute(deploy.toArray(String[]::new)) != 0) {
                    return 1;
                }
                int failures = 0;
                try (WharfClient client = new WharfClient(cluster.endpoints())) {
                    for (String who : List.of("Ada", "Grace", "Linus")) {
                        JobResult r = client.invoke(client.event("hello", who.getBytes(StandardCharsets.UTF_8), "text/plain"), Duration.ofSeconds(60));
                        String out = StandardCharsets.UTF_8.decode(r.getBody()).toString().strip();
                        System.out.println(line(r));
                        System.out.println("    output: " + out);
                        failures += r.getStatus() == JobStatus.SUCCEEDED ? 0 : 1;
                    }
                }
                System.out.println(failures == 0 ? "All demo jobs SUCCEEDED." : failures + " demo job(s) did not succeed.");
                return failures == 0 ? 0 : 1;
            }
        }
    }
}
