package io.wharf.cli;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

import io.wharf.client.Triggers;
import io.wharf.client.Units;
import io.wharf.client.WharfClient;
import io.wharf.records.Trigger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code wharf trigger}: a topic of yours runs a function, each record one event (or a batch of them one). */
@Command(name = "trigger", description = "Run a function for each record of a Kafka topic of yours.",
        subcommands = {TriggerCommand.Create.class, TriggerCommand.ListTriggers.class, TriggerCommand.Pause.class,
                TriggerCommand.Resume.class, TriggerCommand.Delete.class})
final class TriggerCommand {

    @Command(name = "create", description = "Create a trigger: each record of --topic (read and sent in one transaction), or each "
            + "committed row change of --table in --database (PostgreSQL), becomes an event of --function.")
    static final class Create implements Callable<Integer> {
        @Parameters(index = "0", description = "Trigger name.")
        String name;
        @Option(names = "--topic", description = "The topic to read.")
        String topic;
        @Option(names = "--database", description = "A PostgreSQL database whose row changes run the function (logical replication: wal_level=logical).")
        String database;
        @Option(names = "--table", description = "schema.table whose changes run it; more than once for more tables.")
        List<String> tables = new java.util.ArrayList<>();
        @Option(names = "--db-host", defaultValue = "127.0.0.1", description = "The database's host (default ${DEFAULT-VALUE}).")
        String dbHost;
        @Option(names = "--db-port", defaultValue = "5432", description = "Its port (default ${DEFAULT-VALUE}).")
        int dbPort;
        @Option(names = "--db-user", description = "A user with the REPLICATION attribute who may read the tables.")
        String dbUser;
        @Option(names = "--db-password-env", description = "The variable that holds the user's password (never an argument); sealed with "
                + "WHARF_SECRETS_KEY when it is set.")
        String dbPasswordEnv;
        @Option(names = "--snapshot", description = "Also one event (operation read) per row the tables hold when the trigger starts.")
        boolean snapshot;
        @Option(names = "--directory", description = "A directory on the sources role's host (under its wharf.sources.files.roots): each "
                + "new file becomes an event once it stopped growing, then moves to done/ or failed/.")
        String directory;
        @Option(names = "--pattern", defaultValue = "*", description = "A glob the files' names must match (default ${DEFAULT-VALUE}).")
        String pattern;
        @Option(names = "--settle", defaultValue = "2s", description = "How long a file's size must stay the same (default ${DEFAULT-VALUE}).")
        String settle;
        @Option(names = "--function", required = true, description = "The function each record (or batch) runs.")
        String function;
        @Option(names = "--tenant", defaultValue = "default", description = "The tenant its events count against (default ${DEFAULT-VALUE}).")
        String tenant;
        @Option(names = "--format", defaultValue = "raw", description = "raw (bytes as they are), json (checked), avro (the registry's "
                + "wire format, handed on as JSON); default ${DEFAULT-VALUE}.")
        String format;
        @Option(names = "--start", defaultValue = "earliest", description = "Where a new trigger starts: earliest or latest (default ${DEFAULT-VALUE}).")
        String start;
        @Option(names = "--batch", defaultValue = "1", description = "Up to N records per event, as a JSON array (default ${DEFAULT-VALUE}).")
        int batch;
        @Option(names = "--linger", defaultValue = "1s", description = "How long a batch waits to fill (default ${DEFAULT-VALUE}).")
        String linger;
        @Option(names = "--key-from", defaultValue = "key", description = "The event's key: key (the record's), none, header:NAME or "
                + "json:/pointer (default ${DEFAULT-VALUE}).")
        String keyFrom;
        @Option(names = "--paused", description = "Create it paused.")
        boolean paused;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            if ((topic == null ? 0 : 1) + (database == null ? 0 : 1) + (directory == null ? 0 : 1) != 1) {
                throw new IllegalArgumentException("Give --topic TOPIC, --database DB with --table schema.table, or --directory DIR: one source");
            }
            Trigger trigger = topic != null
                    ? Triggers.topicTrigger(name, function, tenant, topic, format, start, batch, Units.duration("--linger", linger), keyFrom)
                    : directory != null ? Triggers.fileTrigger(name, function, tenant, java.nio.file.Path.of(directory).toAbsolutePath().toString(), pattern,
                    Units.duration("--settle", settle))
                    : Triggers.databaseTrigger(name, function, tenant, dbHost, dbPort, database, dbUser == null ? "" : dbUser, password(), tables, snapshot,
                    SecretsCommand.keysFromEnvironment());
            trigger.setPaused(paused);
            try (WharfClient client = connection.client()) {
                client.triggers().create(trigger);
            }
            System.out.println("Trigger " + name + " created: " + describe(trigger));
            if (database != null && !trigger.getDatabase().getPassword().isEmpty() && !trigger.getDatabase().getPassword().startsWith("sealed:")) {
                System.err.println("wharf: warning: the database password is stored in clear on wharf.triggers: set " + SecretsCommand.KEY_ENV
                        + " (the sources role's wharf.secrets.key) to seal it");
            }
            return 0;
        }

        private String password() {
            if (dbPasswordEnv == null) {
                return "";
            }
            String value = Wharf.environment.get(dbPasswordEnv);
            if (value == null) {
                throw new IllegalArgumentException("--db-password-env " + dbPasswordEnv + ": that variable is not set");
            }
            return value;
        }
    }

    @Command(name = "list", description = "List triggers with their lag (records not taken yet).")
    static final class ListTriggers implements Callable<Integer> {
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                Triggers triggers = client.triggers();
                Map<String, Trigger> all = triggers.all();
                if (all.isEmpty()) {
                    System.out.println("No triggers.");
                }
                for (Trigger t : all.values()) {
                    OptionalLong lag = triggers.lag(t);
                    System.out.printf("%-24s %-20s %-7s lag %-8s %s%n", t.getName(), t.getFunction(), t.getPaused() ? "paused" : "active",
                            lag.isPresent() ? String.valueOf(lag.getAsLong()) : "?", describe(t));
                }
            }
            return 0;
        }
    }

    abstract static class Change implements Callable<Integer> {
        @Parameters(index = "0", description = "Trigger name.")
        String name;
        @CommandLine.Mixin
        Wharf.Connection connection;
    }

    @Command(name = "pause", description = "Stop reading until resumed; the trigger keeps its place.")
    static final class Pause extends Change {
        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                client.triggers().pause(name, true);
            }
            System.out.println("Trigger " + name + " paused");
            return 0;
        }
    }

    @Command(name = "resume", description = "Go on reading from where the trigger paused.")
    static final class Resume extends Change {
        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                client.triggers().pause(name, false);
            }
            System.out.println("Trigger " + name + " resumed");
            return 0;
        }
    }

    @Command(name = "delete", description = "Delete a trigger; one made again under its name starts afresh.")
    static final class Delete extends Change {
        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                client.triggers().delete(name);
            }
            System.out.println("Trigger " + name + " deleted");
            return 0;
        }
    }

    static String describe(Trigger t) {
        if (t.getFiles() != null) {
            return "new files " + t.getFiles().getPattern() + " in " + t.getFiles().getDirectory() + " (settled " + t.getFiles().getSettleMillis() + " ms)";
        }
        if (t.getDatabase() != null) {
            var d = t.getDatabase();
            return "changes of " + String.join(", ", d.getTables()) + " in " + d.getConnector() + " " + d.getUser() + "@" + d.getHost() + ":" + d.getPort()
                    + "/" + d.getDatabase() + (d.getSnapshot() ? ", with a snapshot" : "");
        }
        var s = t.getTopic();
        return "topic " + s.getTopic() + ", " + s.getFormat().name().toLowerCase(java.util.Locale.ROOT)
                + (s.getBatchSize() > 1 ? ", batches of " + s.getBatchSize() + " (linger " + s.getLingerMillis() + " ms)" : "")
                + ", key from " + s.getKeyFrom() + ", from " + (s.getStartAtEnd() ? "latest" : "earliest");
    }
}
