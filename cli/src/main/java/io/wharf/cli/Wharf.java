package io.wharf.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;

import com.github.dockerjava.api.DockerClient;

import io.wharf.client.WharfClient;
import io.wharf.client.Endpoints;
import io.wharf.client.Units;
import io.wharf.records.Event;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.RateLimit;
import io.wharf.records.TenantSpec;
import io.wharf.records.Timings;
import io.wharf.config.SettingsSources;
import io.wharf.serde.RegistrySettings;
import io.wharf.embedded.LocalImages;
import io.wharf.worker.DockerEngine;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code wharf} command. */
@Command(name = "wharf", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, version = "wharf 0.1.0",
        description = "Serverless container jobs on Apache Kafka.",
        subcommands = {Wharf.Dev.class, DeployCommand.class, Wharf.Invoke.class, Wharf.Results.class, Wharf.Cancel.class, ScheduleCommand.class, TriggerCommand.class,
                Wharf.Tenant.class, SecretsCommand.class, SchemasCommand.class, TopicsCommand.class, AclsCommand.class, PoolCommand.class, ApiKeyCommand.class, JobsCommands.Job.class, JobsCommands.Jobs.class, JobsCommands.Logs.class, ShipLogsCommand.class,
                JobsCommands.Functions.class, Wharf.Demo.class, Wharf.Completion.class})
public final class Wharf {

    /** The environment the commands read (keys, Kafka settings); tests give their own. */
    static Map<String, String> environment = System.getenv();

    public static void main(String[] args) {
        String badFormat = io.wharf.ops.JobLogs.badFormat(System.getenv());
        if (badFormat != null) {
            System.err.println("wharf: " + badFormat);
            System.exit(2);
        }
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new Wharf())
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("wharf: " + e.getMessage());
                    return 2;
                });
    }

    /**
     * Options shared by the commands that talk to an installation. Settings come from {@code --config FILE}, then the
     * environment ({@code WHARF_KAFKA_*}, {@code WHARF_BOOTSTRAP_SERVERS}, {@code WHARF_REGISTRY_*}), then the flags;
     * without any, from the running {@code wharf dev}.
     */
    static class Connection {
        @Option(names = "--bootstrap", description = "Kafka bootstrap servers (default: bootstrap.servers of --config or the environment, "
                + "else the running `wharf dev`).")
        String bootstrap;
        @Option(names = "--registry", description = "Schema registry URL, Confluent API (default: wharf.registry.url of --config or the "
                + "environment, else the running `wharf dev`).")
        String registry;
        @Option(names = "--config", description = "A properties file of Kafka client settings (security.protocol, ssl.*, sasl.*) and "
                + "wharf.registry.* settings (credentials, trust store); see docs/security.md.")
        Path config;

        WharfClient client() {
            Map<String, String> settings = settings(config);
            String b = bootstrap != null ? bootstrap : settings.remove(WharfClient.BOOTSTRAP_SERVERS_CONFIG);
            String r = registry != null ? registry : settings.remove(RegistrySettings.URL_CONFIG);
            return new WharfClient(Endpoints.resolve(b, r), settings);
        }

        /** The settings of {@code config} (if any) with the environment's over them. */
        static Map<String, String> settings(Path config) {
            if (config != null && SettingsSources.readableByOthers(config)) {
                System.err.println("wharf: warning: " + config + " may be read by other users; if it holds secrets, chmod 600 it");
            }
            return new HashMap<>(SettingsSources.over(config == null ? Map.of() : SettingsSources.fromFile("--config", config),
                    SettingsSources.fromEnvironment(environment, WharfClient.SETTINGS, null)));
        }
    }

    @Command(name = "dev", description = "Run broker, schema registry, dispatcher, worker and HTTP gateway in this process; Ctrl-C stops everything.")
    static final class Dev implements Callable<Integer> {
        @Option(names = "--slots", defaultValue = "4", description = "Jobs the worker runs at once (default ${DEFAULT-VALUE}).")
        int slots;
        @Option(names = "--gateway-port", defaultValue = "8080", description = "The gateway's port on 127.0.0.1 (default ${DEFAULT-VALUE}; 0: any free one).")
        int gatewayPort;

        @Override
        public Integer call() throws InterruptedException {
            System.out.println("Starting Wharf (embedded broker, schema registry, dispatcher, worker, gateway)...");
            try (DockerClient docker = DockerEngine.client()) {
                // The tour's images, built locally (no registry needed), so its first deploy works on a fresh machine.
                LocalImages.demo(docker);
                LocalImages.busybox(docker);
                LocalImages.httpd(docker);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("Could not build the local images: " + e.getMessage(), e);
            }
            DevCluster cluster = DevCluster.start(slots, true, java.util.Map.of(), gatewayPort);
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
            System.out.println("  Gateway           " + cluster.gatewayUrl());
            System.out.println("  Dashboard         " + cluster.gatewayUrl() + "/dashboard/ (sign in with the admin key)");
            System.out.println("  Metrics, health   " + cluster.gatewayUrl() + "/metrics (admin key), /healthz, /readyz");
            System.out.println("  Admin API key     " + cluster.adminKey());
            System.out.println("  Endpoints file    " + Endpoints.stateFile() + " (with the key; mode 600)");
            System.out.println("Try: ./wharf deploy hello --image " + LocalImages.DEMO + "   then   ./wharf invoke hello --data world");
            System.out.println("Or:  curl -H 'Authorization: Bearer " + cluster.adminKey() + "' -d world " + cluster.gatewayUrl() + "/function/hello");
            stopped.await();
            return 0;
        }
    }

    @Command(name = "invoke", description = "Run a function once and print its output; exits 0 only if the job SUCCEEDED.")
    static final class Invoke implements Callable<Integer> {
        @Parameters(index = "0", description = "Function name.")
        String name;
        @Option(names = "--data", description = "Payload text.")
        String data;
        @Option(names = "--file", description = "Payload file; - for standard input (read too when it is piped and neither is given).")
        Path file;
        @Option(names = "--async", description = "Send the event and print its job id without waiting for the result.")
        boolean async;
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
        @Option(names = "--reply-key", description = "Your RSA private key (PKCS#8 PEM file): the result is sealed to its public half, "
                + "so only you read it (its stdout is not logged), and opened here with it.")
        Path replyKey;
        @CommandLine.Mixin
        Connection connection;

        @Override
        public Integer call() throws Exception {
            java.security.PrivateKey opener = replyKey == null ? null : PayloadEnvelope.privateKey(Files.readString(replyKey));
            if (data != null && file != null) {
                throw new IllegalArgumentException("Give --data or --file, not both");
            }
            byte[] payload = data != null ? data.getBytes(StandardCharsets.UTF_8)
                    : file != null && !file.toString().equals("-") ? Files.readAllBytes(file)
                    : file != null || Stdin.piped() ? System.in.readAllBytes() : new byte[0];
            try (WharfClient client = connection.client()) {
                Event event = client.event(name, payload, fanOut && contentType.equals("application/octet-stream") ? "application/json" : contentType);
                event.setPriority(priority);
                event.setKey(key);
                event.setFanOut(fanOut);
                event.setTenant(tenant);
                if (opener != null) {
                    event.setHeaders(Map.of(PayloadEnvelope.REPLY_KEY_HEADER, PayloadEnvelope.encode(PayloadEnvelope.publicKey(Files.readString(replyKey)))));
                }
                Duration timeout = Units.duration("--wait", wait);
                if (delay != null) {
                    Duration d = Units.duration("--delay", delay);
                    event.setRunAt(Instant.now().plus(d));
                    timeout = timeout.plus(d);
                }
                if (async) {
                    client.send(event);
                    System.out.println(event.getId());
                    return 0;
                }
                JobResult result = client.invoke(event, timeout);
                byte[] body = new byte[result.getBody().remaining()];
                result.getBody().get(body);
                if (opener != null && PayloadEnvelope.looksSealed(body)) {
                    body = PayloadEnvelope.open(body, opener).payload();
                }
                System.out.write(body);
                System.out.flush();
                PrintStream err = System.err;
                // What the job cost, as a report line beside the output (stdout stays the container's own).
                err.println("wharf: " + report(result));
                if (result.getStatus() == JobStatus.SUCCEEDED) {
                    return 0;
                }
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

    /** A result's status, run time and resource use in one line: {@code job ID SUCCEEDED, ran 1103 ms, CPU 1.02 s, ...}. */
    static String report(JobResult r) {
        Timings t = r.getTimings();
        String ran = t != null && t.getStartedAt() != null && t.getExitedAt() != null ? ", ran " + (t.getExitedAt() - t.getStartedAt()) + " ms" : "";
        return "job " + r.getJobId() + " " + r.getStatus() + ran + (r.getUsage() == null ? "" : ", " + io.wharf.rules.Results.usage(r.getUsage()));
    }

    static String line(JobResult r) {
        Timings t = r.getTimings();
        String lifetime = t.getStartedAt() != null && t.getExitedAt() != null ? (t.getExitedAt() - t.getStartedAt()) + " ms" : "-";
        String total = t.getEventCreatedAt() != null && t.getFinishedAt() != null ? (t.getFinishedAt() - t.getEventCreatedAt()) + " ms" : "-";
        return String.format("%-38s %-20s %-11s lifetime %-9s end-to-end %-9s %s%s", r.getJobId(), r.getFunction(), r.getStatus(), lifetime, total,
                io.wharf.rules.Results.usage(r.getUsage()), r.getError() == null ? "" : "  " + r.getError());
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
            try (DockerClient docker = DockerEngine.client()) {
                LocalImages.demo(docker);
            }
            System.out.println("Starting Wharf (embedded broker, schema registry, dispatcher, worker, gateway)...");
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
