package io.wharf.topics;

import java.util.List;

import org.apache.avro.Schema;

import io.wharf.records.ApiKey;
import io.wharf.records.Attempt;
import io.wharf.records.Control;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.LogLine;
import io.wharf.records.PoolPolicy;
import io.wharf.records.Schedule;
import io.wharf.records.Trigger;
import io.wharf.records.TenantSpec;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;

/**
 * What travels on each of Wharf's topics that clients touch: its key, the Avro record of its values and the
 * registry subject they are registered under (topic-name strategy), who writes it and who reads it. The
 * dispatcher registers all of them at start, so a client in any language can fetch a subject's latest
 * version on a fresh installation; {@code wharf schemas} and {@code docs/topics.md} show the same list.
 */
public final class TopicSchemas {

    /** Whether clients produce to the topic, read it, or may watch what Wharf's roles tell each other there. */
    public enum Use {
        CLIENTS_WRITE("write"), CLIENTS_READ("read"), INTERNAL("may read");

        private final String label;

        Use(String label) {
            this.label = label;
        }

        /** What clients do with the topic, in a word or two. */
        public String label() {
            return label;
        }
    }

    /** One topic's contract. Keys are UTF-8 strings on every topic. */
    public record Entry(String topic, String key, Schema value, Use use, String writtenBy, String readBy) {
        public String subject() {
            return valueSubject(topic);
        }
    }

    public static final List<Entry> ALL = List.of(
            new Entry(Topics.EVENTS, "function name", Event.getClassSchema(), Use.CLIENTS_WRITE,
                    "any client (wharf invoke, your producers), the dispatcher (chains, schedules)", "dispatcher"),
            new Entry(Topics.FUNCTIONS, "function name; compacted, a null value deletes", FunctionSpec.getClassSchema(), Use.CLIENTS_WRITE,
                    "wharf deploy, any client", "dispatcher"),
            new Entry(Topics.SCHEDULES, "schedule id; compacted, a null value deletes", Schedule.getClassSchema(), Use.CLIENTS_WRITE,
                    "wharf schedule, any client", "dispatcher"),
            new Entry(Topics.TRIGGERS, "trigger name; compacted, a null value deletes", Trigger.getClassSchema(), Use.CLIENTS_WRITE,
                    "wharf trigger, any client", "the sources role"),
            new Entry(Topics.TENANTS, "tenant name; compacted, a null value deletes", TenantSpec.getClassSchema(), Use.CLIENTS_WRITE,
                    "wharf tenant, any client", "dispatcher"),
            new Entry(Topics.POOLS, "pool name; compacted, a null value restores the defaults", PoolPolicy.getClassSchema(), Use.CLIENTS_WRITE,
                    "wharf pool set (operators only)", "every worker, wharf deploy"),
            new Entry(Topics.API_KEYS, "key id; compacted, a null value revokes", ApiKey.getClassSchema(), Use.CLIENTS_WRITE,
                    "wharf apikey (operators only)", "the gateway"),
            new Entry(Topics.CONTROL, "job id", Control.getClassSchema(), Use.CLIENTS_WRITE,
                    "wharf cancel, any client", "every worker"),
            new Entry(Topics.RESULTS, "job id (= event id)", JobResult.getClassSchema(), Use.CLIENTS_READ,
                    "workers and the dispatcher, in transactions", "users (read_committed), wharf invoke and results"),
            new Entry(Topics.STATUS, "job id; compacted, kept 7 days", JobState.getClassSchema(), Use.CLIENTS_READ,
                    "the dispatcher and workers, with the records that make each state so", "the gateway (/v1/jobs), users"),
            new Entry(Topics.LOGS, "job id", LogLine.getClassSchema(), Use.CLIENTS_READ,
                    "workers", "users, log shippers"),
            new Entry(Topics.DLQ, "job id", DeadLetter.getClassSchema(), Use.CLIENTS_READ,
                    "the dispatcher and workers", "operators"),
            new Entry(Topics.ATTEMPTS, "function name", Attempt.getClassSchema(), Use.INTERNAL,
                    "workers, in the transaction that commits the job", "the dispatcher"));

    private TopicSchemas() {
    }

    /** The registry subject of a topic's values under the topic-name strategy. */
    public static String valueSubject(String topic) {
        return AvroSerializer.subject(topic, false);
    }

    /**
     * Registers every entry's value schema under its subject (a no-op for what is registered already) and
     * returns the subjects in order.
     *
     * @throws io.wharf.serde.SchemaRegistryException if the registry refuses a schema or cannot be reached
     */
    public static List<String> registerAll(SchemaRegistryClient registry) {
        for (Entry entry : ALL) {
            registry.register(entry.subject(), entry.value());
        }
        return ALL.stream().map(Entry::subject).toList();
    }
}
