package io.wharf.sources.database;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import io.wharf.records.DatabaseSource;
import io.wharf.records.Event;
import io.wharf.records.Trigger;
import io.wharf.rules.Triggers;
import io.wharf.secrets.SealedSecrets;
import io.wharf.serde.AvroSerializer;
import io.wharf.sources.spi.TriggerParts;
import io.wharf.sources.spi.TriggerRun;
import io.wharf.topics.Topics;

/**
 * A database trigger on one instance: Debezium's embedded engine reads the database's committed changes (PostgreSQL's
 * logical replication, {@code pgoutput}, a slot and a publication of the trigger's own), and each row change becomes one
 * event. A batch's events are acknowledged by the broker before the engine commits the batch's position to Kafka
 * ({@value #OFFSETS_TOPIC}), so none is lost; a change sent but not committed when the trigger stopped is sent again
 * at its restart under the same event id, which the dispatcher drops as a duplicate within its dedupe window.
 *
 * <p>One replication slot is read by one connection: where several instances run the trigger, one reads and the
 * others wait ({@link State#STARTING}, "the slot is in use"), taking over when it stops.
 */
public final class DatabaseTrigger implements TriggerRun {
    private static final Logger log = LoggerFactory.getLogger(DatabaseTrigger.class);
    /** Where every database trigger's engine keeps its position, keyed by the engine's name (the trigger's group). */
    public static final String OFFSETS_TOPIC = Topics.TRIGGER_OFFSETS;

    private final Trigger trigger;
    private final TriggerParts parts;
    private final ChangeEvents changes;
    private final KafkaProducer<String, byte[]> producer;
    private final AvroSerializer<Event> serializer;
    private volatile DebeziumEngine<ChangeEvent<String, String>> engine;
    private final Thread thread;
    private final Object pauses = new Object();
    private volatile boolean paused;
    private volatile boolean closed;
    private volatile State state = State.STARTING;
    private volatile String problem;

    public DatabaseTrigger(Trigger trigger, TriggerParts parts) {
        this.trigger = trigger;
        this.parts = parts;
        this.changes = new ChangeEvents(trigger, new ObjectMapper());
        this.paused = trigger.getPaused();
        this.producer = new KafkaProducer<>(parts.clients().plainProducer(trigger.getName()), new StringSerializer(), new ByteArraySerializer());
        this.serializer = new AvroSerializer<>(parts.registry());
        this.thread = Thread.ofPlatform().name("wharf-trigger-" + trigger.getName()).unstarted(this::run);
    }

    /** Builds the engine (its password opened here, so that a key missing fails the run, which is tried again) and runs it. */
    private void run() {
        try {
            engine = DebeziumEngine.create(Json.class)
                    .using(properties())
                    .using(new DebeziumEngine.ConnectorCallback() {
                        @Override
                        public void pollingStarted() {
                            state = paused ? State.PAUSED : State.RUNNING;
                            problem = null;
                            log.info("Trigger {} reading changes of {} in {}", trigger.getName(), trigger.getDatabase().getTables(), trigger.getDatabase().getDatabase());
                        }
                    })
                    .using((success, message, error) -> {
                        if (!success && !closed) {
                            problem = inUse(message, error) ? "the replication slot is in use (another instance reads it; this one takes over when it stops)"
                                    : message + (error == null ? "" : ": " + error.getMessage());
                            state = State.FAILED;
                            log.warn("Trigger {} stopped: {}", trigger.getName(), problem);
                        }
                    })
                    .notifying(this::handleBatch)
                    .build();
            if (!closed) {
                engine.run();
            }
        } catch (RuntimeException e) {
            problem = e.getMessage();
            state = State.FAILED;
            log.error("Trigger {} failed: {}", trigger.getName(), problem, e);
        }
    }

    private static boolean inUse(String message, Throwable error) {
        String all = message + (error == null ? "" : " " + error + " " + error.getCause());
        return all.contains("is active for PID");
    }

    /** The trigger's own replication slot and publication: PostgreSQL's names are at most 63 characters. */
    private String own() {
        String own = "wharf_" + Triggers.instance(trigger).toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return own.length() > 63 ? own.substring(own.length() - 63) : own;
    }

    /**
     * Drops the trigger's slot and publication: a slot no one reads keeps every change after it, and the database's
     * disk fills. Each instance tries; the slot goes once no one reads it.
     */
    @Override
    public void deleted() {
        DatabaseSource db = trigger.getDatabase();
        String url = "jdbc:postgresql://" + db.getHost() + ":" + db.getPort() + "/" + db.getDatabase();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, db.getUser(), password(db));
             java.sql.PreparedStatement slot = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                     + "WHERE slot_name = ? AND NOT active");
             java.sql.Statement publication = c.createStatement()) {
            slot.setString(1, own());
            slot.execute();
            publication.execute("DROP PUBLICATION IF EXISTS " + own());
            log.info("Trigger {} deleted: replication slot and publication {} dropped", trigger.getName(), own());
        } catch (java.sql.SQLException | RuntimeException e) {
            log.warn("Trigger {} deleted, but its replication slot {} could not be dropped ({}): drop it with SELECT pg_drop_replication_slot('{}')",
                    trigger.getName(), own(), e.getMessage(), own());
        }
    }

    /** The engine's settings: the connector's, the trigger's own slot and publication, and its position in Kafka. */
    private Properties properties() {
        DatabaseSource db = trigger.getDatabase();
        String own = own();
        Properties p = new Properties();
        p.putAll(parts.clients().connectSettings());
        p.put("name", io.wharf.client.Triggers.group(trigger));
        p.put("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.put("offset.storage", "org.apache.kafka.connect.storage.KafkaOffsetBackingStore");
        p.put("offset.storage.topic", OFFSETS_TOPIC);
        p.put("offset.storage.partitions", "1");
        p.put("offset.storage.replication.factor", "-1");
        p.put("offset.flush.interval.ms", "0"); // each acknowledged batch's position is committed at once
        p.put("database.hostname", db.getHost());
        p.put("database.port", String.valueOf(db.getPort()));
        p.put("database.dbname", db.getDatabase());
        p.put("database.user", db.getUser());
        p.put("database.password", password(db));
        p.put("topic.prefix", trigger.getName());
        p.put("plugin.name", "pgoutput");
        p.put("slot.name", own);
        p.put("publication.name", own);
        p.put("publication.autocreate.mode", "filtered");
        p.put("table.include.list", String.join(",", db.getTables()));
        p.put("snapshot.mode", db.getSnapshot() ? "initial" : "no_data");
        p.put("tombstones.on.delete", "false");
        // Hand each change on as it comes: Debezium's default waits 500 ms for more before a batch (1 s from commit to job).
        p.put("poll.interval.ms", "10");
        p.put("decimal.handling.mode", "string");
        p.put("key.converter.schemas.enable", "false");
        p.put("value.converter.schemas.enable", "false");
        p.putAll(db.getProperties());
        return p;
    }

    private String password(DatabaseSource db) {
        String value = db.getPassword();
        if (!value.startsWith(SealedSecrets.PREFIX)) {
            return value;
        }
        SealedSecrets keys = parts.secrets();
        if (keys == null) {
            throw new IllegalStateException("Trigger " + trigger.getName() + "'s database password is sealed, and this instance has no "
                    + SealedSecrets.KEY_SETTING + " to open it: give it the keys wharf trigger create sealed it with");
        }
        return keys.open(value, Triggers.databasePassword(trigger));
    }

    @Override
    public DatabaseTrigger start() {
        thread.start();
        return this;
    }

    /** A batch of changes: their events sent and acknowledged, then the batch marked done, which commits its position. */
    private void handleBatch(List<ChangeEvent<String, String>> records, DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer)
            throws InterruptedException {
        synchronized (pauses) {
            while (paused && !closed) {
                state = State.PAUSED;
                pauses.wait(1000);
            }
        }
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        long now = parts.clock().millis();
        for (ChangeEvent<String, String> record : records) {
            if (record.value() != null) {
                Event event = parts.sealed(changes.event(record.key(), record.value(), java.time.Instant.ofEpochMilli(now)));
                sent.add(producer.send(new ProducerRecord<>(Topics.EVENTS, event.getFunction(), serializer.serialize(Topics.EVENTS, event))));
            }
        }
        producer.flush();
        for (Future<RecordMetadata> future : sent) {
            try {
                future.get();
            } catch (ExecutionException e) {
                // Not committed: the engine stops, and the batch is read again when the trigger starts again.
                throw new IllegalStateException("Could not send trigger " + trigger.getName() + "'s events to " + Topics.EVENTS + ": "
                        + e.getCause().getMessage(), e.getCause());
            }
        }
        for (ChangeEvent<String, String> record : records) {
            committer.markProcessed(record);
        }
        committer.markBatchFinished();
        parts.outcomes().committed(trigger.getName(), records.size(), sent.size(), 0);
        if (state != State.PAUSED) {
            state = State.RUNNING;
        }
    }

    @Override
    public Trigger trigger() {
        return trigger;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public String problem() {
        return problem;
    }

    /** Changes not yet taken are the database's to count: 0 here. */
    @Override
    public long lag() {
        return 0;
    }

    @Override
    public void pause(boolean pause) {
        synchronized (pauses) {
            paused = pause;
            if (!pause && state == State.PAUSED) {
                state = State.RUNNING;
            }
            pauses.notifyAll();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        pause(false);
        try {
            if (engine != null) {
                engine.close();
            }
            thread.join(java.time.Duration.ofSeconds(30));
        } catch (java.io.IOException e) {
            log.warn("Trigger {}: closing its engine: {}", trigger.getName(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            producer.close(java.time.Duration.ofSeconds(5));
            if (state != State.FAILED) {
                state = State.STOPPED;
            }
        }
    }
}
