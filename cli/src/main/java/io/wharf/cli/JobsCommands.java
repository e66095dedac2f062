package io.wharf.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.kafka.common.utils.Utils;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.wharf.client.WharfClient;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobPhase;
import io.wharf.records.JobState;
import io.wharf.records.LogLine;
import io.wharf.records.LogStream;
import io.wharf.rules.JobStates;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.serde.RecordJson;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code wharf job}, {@code wharf jobs}, {@code wharf logs} and {@code wharf functions}: what the gateway's
 * {@code /v1/jobs} and {@code /v1/functions} show, read from Kafka ({@code wharf.status}, {@code wharf.logs},
 * {@code wharf.functions}); each prints text for people or, with {@code --output json}, JSON for scripts.
 */
final class JobsCommands {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JobsCommands() {
    }

    /** How a command prints. */
    static class Output {
        @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text (default) or json.")
        String format;

        boolean json() {
            return switch (format.toLowerCase(Locale.ROOT)) {
                case "json" -> true;
                case "text" -> false;
                default -> throw new IllegalArgumentException("--output '" + format + "' is neither text nor json");
            };
        }
    }

    static Map<String, Object> describe(JobState s) {
        return JobStates.describe(s, null);
    }

    static String line(JobState s) {
        return String.format("%-38s %-24s %-10s attempt %d  %s%s", s.getJobId(), s.getFunction(), s.getPhase(), s.getAttempt(),
                Instant.ofEpochMilli(s.getUpdatedAt()), s.getReason() == null ? "" : "  " + s.getReason());
    }

    static void print(PrintStream out, Object json) {
        try {
            out.println(JSON.writeValueAsString(json));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Command(name = "job", description = "Show a job's state: queued, throttled, delayed, running, retrying, or how it ended.")
    static final class Job implements Callable<Integer> {
        @Parameters(index = "0", description = "Job id (wharf invoke --async prints it; the gateway's X-Call-Id).")
        String id;
        @CommandLine.Mixin
        Output output;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            boolean json = output.json();
            try (WharfClient client = connection.client()) {
                JobState state = client.state(id).orElseThrow(() -> new IllegalArgumentException("No job " + id + " on wharf.status "
                        + "(jobs are kept 7 days; `wharf jobs` lists recent ones)"));
                if (json) {
                    print(System.out, describe(state));
                } else {
                    Map<String, Object> fields = describe(state);
                    fields.put("usage", io.wharf.rules.Results.usage(state.getUsage()));
                    fields.put("timings", lifetime(state.getTimings()));
                    fields.forEach((k, v) -> System.out.printf("%-10s %s%n", k, v == null ? "-" : v));
                }
            }
            return 0;
        }
    }

    /** A final job's lifetime in words: each step that happened, in milliseconds; null before it ends. */
    static String lifetime(io.wharf.records.Timings t) {
        if (t == null) {
            return null;
        }
        List<String> steps = new java.util.ArrayList<>();
        step(steps, "queued", t.getEventCreatedAt(), t.getDequeuedAt());
        step(steps, "start", t.getCreatedAt(), t.getStartedAt());
        step(steps, "ready", t.getStartedAt(), t.getReadyAt());
        step(steps, "run", t.getReadyAt() != null ? t.getReadyAt() : t.getStartedAt(), t.getExitedAt());
        step(steps, "result", t.getExitedAt(), t.getFinishedAt());
        return steps.isEmpty() ? null : String.join(", ", steps);
    }

    private static void step(List<String> steps, String name, Long from, Long to) {
        if (from != null && to != null) {
            steps.add(name + " " + Math.max(0, to - from) + " ms");
        }
    }

    @Command(name = "jobs", description = "List recent jobs, most recently updated first.")
    static final class Jobs implements Callable<Integer> {
        @Option(names = "--function", description = "Only this function's.")
        String function;
        @Option(names = "--status", description = "Only jobs in this state, e.g. RUNNING, FAILED.")
        String status;
        @Option(names = "--limit", defaultValue = "50", description = "At most this many (default ${DEFAULT-VALUE}).")
        int limit;
        @CommandLine.Mixin
        Output output;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            boolean json = output.json();
            JobPhase phase = status == null ? null : phase(status);
            try (WharfClient client = connection.client()) {
                List<JobState> jobs = client.states().values().stream()
                        .filter(s -> function == null || s.getFunction().equals(function))
                        .filter(s -> phase == null || s.getPhase() == phase)
                        .sorted(Comparator.comparingLong(JobState::getUpdatedAt).reversed()).limit(limit).toList();
                if (json) {
                    print(System.out, Map.of("jobs", jobs.stream().map(JobsCommands::describe).toList()));
                } else {
                    jobs.forEach(s -> System.out.println(line(s)));
                }
            }
            return 0;
        }

        private static JobPhase phase(String status) {
            try {
                return JobPhase.valueOf(status.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--status '" + status + "' is none of " + java.util.Arrays.toString(JobPhase.values()));
            }
        }
    }

    @Command(name = "logs", description = "Print a job's output lines (stdout, stderr and Wharf's own); --follow until it ends.")
    static final class Logs implements Callable<Integer> {
        @Parameters(index = "0", description = "Job id.")
        String id;
        @Option(names = {"-f", "--follow"}, description = "Keep printing until the job ends.")
        boolean follow;
        @CommandLine.Mixin
        Output output;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            boolean json = output.json();
            try (WharfClient client = connection.client()) {
                JobState state = client.state(id).orElseThrow(() -> new IllegalArgumentException("No job " + id + " on wharf.status"));
                Instant began = Instant.ofEpochMilli(state.getEventCreatedAt() != null ? state.getEventCreatedAt() : state.getUpdatedAt());
                client.logs(id, began, follow, () -> client.state(id).map(JobStates::isFinal).orElse(true), line -> print(line, json));
            }
            return 0;
        }

        private static void print(LogLine line, boolean json) {
            String text = new String(Utils.toArray(line.getLine()), StandardCharsets.UTF_8);
            if (json) {
                try {
                    System.out.println(new ObjectMapper().writeValueAsString(Map.of("attempt", line.getAttempt(), "stream",
                            line.getStream().name().toLowerCase(Locale.ROOT), "line", text, "at", line.getAt().toString())));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            } else {
                (line.getStream() == LogStream.STDERR ? System.err : System.out).println(text);
            }
        }
    }

    @Command(name = "functions", description = "List deployed functions, describe one, or delete one.",
            subcommands = {Functions.ListFunctions.class, Functions.Describe.class, Functions.Delete.class})
    static final class Functions implements Callable<Integer> {
        @CommandLine.Mixin
        Output output;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            return list(connection, output);
        }

        static int list(Wharf.Connection connection, Output output) {
            boolean json = output.json();
            try (WharfClient client = connection.client()) {
                Map<String, FunctionSpec> functions = client.functions();
                if (json) {
                    print(System.out, Map.of("functions", functions.values().stream().map(Functions::tree).toList()));
                } else {
                    functions.values().forEach(f -> System.out.printf("%-28s %-36s tenant %-12s pool %s%n", f.getName(), f.getImage(),
                            f.getTenant(), f.getPool()));
                }
            }
            return 0;
        }

        /** A function as JSON, secret values hidden. */
        static Object tree(FunctionSpec spec) {
            return RecordJson.of(FunctionSecrets.hidden(spec));
        }

        @Command(name = "list", description = "List deployed functions.")
        static final class ListFunctions implements Callable<Integer> {
            @CommandLine.Mixin
            Output output;
            @CommandLine.Mixin
            Wharf.Connection connection;

            @Override
            public Integer call() {
                return list(connection, output);
            }
        }

        @Command(name = "describe", description = "Show a function's settings (secret values hidden).")
        static final class Describe implements Callable<Integer> {
            @Parameters(index = "0", description = "Function name.")
            String name;
            @CommandLine.Mixin
            Output output;
            @CommandLine.Mixin
            Wharf.Connection connection;

            @Override
            public Integer call() {
                output.json(); // checks the flag; a description is JSON either way
                try (WharfClient client = connection.client()) {
                    FunctionSpec spec = client.functions().get(name);
                    if (spec == null) {
                        throw new IllegalArgumentException("No function " + name + " (`wharf functions` lists them)");
                    }
                    print(System.out, tree(spec));
                }
                return 0;
            }
        }

        @Command(name = "delete", description = "Remove a function: its events are refused from then on.")
        static final class Delete implements Callable<Integer> {
            @Parameters(index = "0", description = "Function name.")
            String name;
            @CommandLine.Mixin
            Output output;
            @CommandLine.Mixin
            Wharf.Connection connection;

            @Override
            public Integer call() {
                boolean json = output.json();
                try (WharfClient client = connection.client()) {
                    if (!client.functions().containsKey(name)) {
                        throw new IllegalArgumentException("No function " + name + " (`wharf functions` lists them)");
                    }
                    client.undeploy(name);
                }
                if (json) {
                    print(System.out, Map.of("deleted", name));
                } else {
                    System.out.println("Deleted " + name);
                }
                return 0;
            }
        }
    }
}
