package io.wharf.rules;

import java.util.regex.Pattern;

import io.wharf.records.TopicSource;
import io.wharf.records.Trigger;

/**
 * What makes a trigger runnable, checked by the client before it is sent and by the sources role before it runs one
 * (a record anyone produced): each error names the field, its value and what would do.
 */
public final class Triggers {
    /** Names go into consumer-group and transactional ids and job ids: a character set every one of them takes. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    /** Kafka's own rule for topic names. */
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    public static final int MAX_BATCH = 10_000;
    public static final long MAX_LINGER_MILLIS = 600_000;

    private Triggers() {
    }

    /** @throws IllegalArgumentException naming what is wrong and how to fix it */
    public static void validate(Trigger trigger) {
        String name = trigger.getName();
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("Trigger name '" + name + "' is not valid: use 1 to 100 letters, digits, '.', '_' or '-', "
                    + "starting with a letter or digit");
        }
        if (trigger.getFunction() == null || trigger.getFunction().isBlank()) {
            throw new IllegalArgumentException("Trigger '" + name + "' names no function: give --function NAME");
        }
        int sources = (trigger.getTopic() == null ? 0 : 1) + (trigger.getDatabase() == null ? 0 : 1) + (trigger.getFiles() == null ? 0 : 1);
        if (sources != 1) {
            throw new IllegalArgumentException("Trigger '" + name + "' needs one source: --topic TOPIC, --database DB with --table, or --directory DIR");
        }
        if (trigger.getFiles() != null) {
            files(name, trigger.getFiles());
            return;
        }
        if (trigger.getDatabase() != null) {
            database(name, trigger.getDatabase());
            return;
        }
        TopicSource topic = trigger.getTopic();
        if (!TOPIC.matcher(topic.getTopic()).matches()) {
            throw new IllegalArgumentException("Trigger '" + name + "': topic '" + topic.getTopic() + "' is not a valid Kafka topic name");
        }
        if (topic.getTopic().startsWith("wharf.")) {
            throw new IllegalArgumentException("Trigger '" + name + "': topic " + topic.getTopic() + " is Wharf's own; a trigger reads "
                    + "a topic of yours (to run a function after another, use its onSuccess)");
        }
        if (topic.getBatchSize() < 1 || topic.getBatchSize() > MAX_BATCH) {
            throw new IllegalArgumentException("Trigger '" + name + "': batch " + topic.getBatchSize() + " is out of range: 1 to " + MAX_BATCH);
        }
        if (topic.getLingerMillis() < 0 || topic.getLingerMillis() > MAX_LINGER_MILLIS) {
            throw new IllegalArgumentException("Trigger '" + name + "': linger " + topic.getLingerMillis() + " ms is out of range: 0 to "
                    + MAX_LINGER_MILLIS + " ms");
        }
        KeyFrom.parse(topic.getKeyFrom());
    }

    private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*");

    private static void database(String name, io.wharf.records.DatabaseSource db) {
        if (!db.getConnector().equals("postgresql")) {
            throw new IllegalArgumentException("Trigger '" + name + "': connector '" + db.getConnector() + "' is not one Wharf runs: postgresql");
        }
        if (db.getHost() == null || db.getHost().isBlank() || db.getDatabase() == null || db.getDatabase().isBlank()
                || db.getUser() == null || db.getUser().isBlank()) {
            throw new IllegalArgumentException("Trigger '" + name + "' needs the database's host, name and user: --db-host, --database, --db-user");
        }
        if (db.getPort() < 1 || db.getPort() > 65_535) {
            throw new IllegalArgumentException("Trigger '" + name + "': port " + db.getPort() + " is out of range: 1 to 65535");
        }
        if (db.getTables().isEmpty()) {
            throw new IllegalArgumentException("Trigger '" + name + "' names no table: give --table schema.table (more than once for more)");
        }
        for (String table : db.getTables()) {
            if (!TABLE.matcher(table).matches()) {
                throw new IllegalArgumentException("Trigger '" + name + "': table '" + table + "' is not schema.table (e.g. public.orders)");
            }
        }
    }

    private static void files(String name, io.wharf.records.FileSource files) {
        if (!java.nio.file.Path.of(files.getDirectory()).isAbsolute()) {
            throw new IllegalArgumentException("Trigger '" + name + "': directory '" + files.getDirectory() + "' is not an absolute path");
        }
        try {
            java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + files.getPattern());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Trigger '" + name + "': pattern '" + files.getPattern() + "' is not a glob: " + e.getMessage());
        }
        if (files.getSettleMillis() < 0 || files.getSettleMillis() > MAX_LINGER_MILLIS) {
            throw new IllegalArgumentException("Trigger '" + name + "': settle " + files.getSettleMillis() + " ms is out of range: 0 to " + MAX_LINGER_MILLIS + " ms");
        }
    }

    /**
     * The trigger's name and creation ({@code orders-mh2k9x0c}): what its events' ids and its consumer group begin with,
     * so that a trigger made again under the same name is a new one.
     */
    public static String instance(Trigger trigger) {
        return trigger.getName() + "-" + Long.toString(trigger.getCreatedAt().toEpochMilli(), 36);
    }

    /** What a database trigger's password is sealed to: the trigger and the database's host. */
    public static io.wharf.secrets.SealedSecrets.Binding databasePassword(Trigger trigger) {
        return new io.wharf.secrets.SealedSecrets.Binding("trigger " + trigger.getName(), trigger.getDatabase().getHost(), "database password");
    }

    /** Where an event's key comes from: the record's key, nothing, one of its headers, or a JSON pointer into its value. */
    public record KeyFrom(Kind kind, String name) {
        public enum Kind { KEY, NONE, HEADER, JSON }

        /** @throws IllegalArgumentException naming the accepted forms */
        public static KeyFrom parse(String spec) {
            if (spec == null || spec.equals("key")) {
                return new KeyFrom(Kind.KEY, null);
            }
            if (spec.equals("none")) {
                return new KeyFrom(Kind.NONE, null);
            }
            if (spec.startsWith("header:") && spec.length() > "header:".length()) {
                return new KeyFrom(Kind.HEADER, spec.substring("header:".length()));
            }
            if (spec.startsWith("json:/")) {
                return new KeyFrom(Kind.JSON, spec.substring("json:".length()));
            }
            throw new IllegalArgumentException("--key-from '" + spec + "' is not one of: key, none, header:NAME, json:/pointer (e.g. json:/order/id)");
        }
    }
}
