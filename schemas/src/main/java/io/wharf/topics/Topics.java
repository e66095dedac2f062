package io.wharf.topics;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Utils;

/**
 * The topics Wharf shares between its modules, as fixed by the architecture. Keys and cleanup policies are
 * part of the contract: {@code wharf.events} and {@code wharf.functions} are both keyed by function name and
 * must have the same partition count, so that one dispatcher task sees a function and all of its events.
 */
public final class Topics {
    public static final String FUNCTIONS = "wharf.functions";
    public static final String SCHEDULES = "wharf.schedules";
    public static final String TRIGGERS = "wharf.triggers";
    /** Where database triggers' engines keep their positions in the databases' logs (Kafka Connect's offset store). */
    public static final String TRIGGER_OFFSETS = "wharf.triggers.offsets";
    /** Tenant-wide limits (compacted, keyed by tenant). */
    public static final String TENANTS = "wharf.tenants";
    /** Pools' policies: what their functions may ask for (compacted, keyed by pool; written by operators only). */
    public static final String POOLS = "wharf.pools";
    /** The gateway's API keys, hashed (compacted, keyed by key id; written by operators only). */
    public static final String API_KEYS = "wharf.apikeys";
    /**
     * The dispatcher's second stage for tenants with limits: jobs that passed their function's limits, and
     * notices of finished jobs, keyed by tenant so that one task owns each tenant's counts.
     */
    public static final String TENANT_ADMISSION = "wharf.dispatch.tenants";
    public static final String EVENTS = "wharf.events";
    public static final String ATTEMPTS = "wharf.attempts";
    public static final String RESULTS = "wharf.results";
    /** Each job's latest state (compacted, keyed by job id; what the gateway's /v1/jobs answers from). */
    public static final String STATUS = "wharf.status";
    /** How long a finished job's state is kept: compaction keeps the last per job, deletion ends it after this. */
    public static final long STATUS_RETENTION_MS = 7L * 24 * 60 * 60 * 1000;
    public static final String LOGS = "wharf.logs";
    public static final String DLQ = "wharf.dlq";
    /** Cancel requests; every worker reads all of it, so it keeps only a day. */
    public static final String CONTROL = "wharf.control";
    public static final long CONTROL_RETENTION_MS = 24L * 60 * 60 * 1000;
    public static final String JOBS_PREFIX = "wharf.jobs.";
    public static final String DEFAULT_POOL = "default";
    /**
     * The largest record Wharf's clients write or fetch (producers' {@code max.request.size}, consumers'
     * {@code max.partition.fetch.bytes}): a result body is capped well below it. A broker's own limit
     * ({@code message.max.bytes}, 1 MiB by default) applies to topics created without their own limit; Wharf then keeps its
     * records within it (see {@link TopicLimits}).
     */
    public static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;
    /**
     * Header on a record the dispatcher wrote again to the partition of its key, having found it on another (a
     * client with another partitioner); its value is where the record first arrived, {@code topic-partition@offset}.
     */
    public static final String REROUTED_HEADER = "wharf-rerouted";
    /**
     * Header on an event record, its sender's promise: the event's id was made for this one send, through an idempotent
     * producer, and no copy will follow (a gateway request). The dispatcher then keeps no dedupe entry for the id, a
     * record and a store entry less per event; an idempotency key is remembered all the same.
     */
    public static final String SENT_ONCE_HEADER = "wharf-sent-once";

    private static final Pattern POOL_NAME = Pattern.compile("[a-zA-Z0-9_-]{1,100}");

    private Topics() {
    }

    /** The job topic of a worker pool. */
    public static String jobs(String pool) {
        if (pool == null || !POOL_NAME.matcher(pool).matches()) {
            throw new IllegalArgumentException("Pool name '" + pool
                    + "' is invalid: use 1 to 100 letters, digits, '_' or '-' (it becomes the topic " + JOBS_PREFIX + "<pool>)");
        }
        return JOBS_PREFIX + pool;
    }

    /**
     * The partition a key belongs to on a topic of {@code partitions} partitions: the one Java's producer picks by
     * default (murmur2 of the key's UTF-8 bytes). The dispatcher expects each function's records there and moves
     * records that other partitioners (librdkafka's CRC32, round-robin, explicit partitions) put elsewhere.
     */
    public static int partitionOf(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /**
     * The topics a Wharf installation needs, with the given partition count and replication factor. Each carries an
     * explicit {@code max.message.bytes} of {@link #MAX_RECORD_BYTES}, so it takes Wharf's largest records whatever the
     * broker's default (Kafka's is 1 MiB); on topics created otherwise, Wharf keeps its records within the limit it
     * finds (see {@link TopicLimits}).
     */
    public static List<NewTopic> core(int partitions, short replication, Collection<String> pools) {
        List<NewTopic> topics = new ArrayList<>();
        topics.add(topic(FUNCTIONS, partitions, replication, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
        topics.add(topic(SCHEDULES, partitions, replication, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
        topics.add(topic(TENANTS, partitions, replication, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
        // One partition: every worker reads all of it, and it holds one small record per pool.
        topics.add(topic(POOLS, 1, replication, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
        topics.add(topic(API_KEYS, 1, replication, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));
        topics.add(triggersTopic(replication));
        topics.add(topic(STATUS, partitions, replication, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG,
                TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE, TopicConfig.RETENTION_MS_CONFIG,
                String.valueOf(STATUS_RETENTION_MS))));
        for (String name : List.of(TENANT_ADMISSION, EVENTS, ATTEMPTS, RESULTS, LOGS, DLQ)) {
            topics.add(topic(name, partitions, replication, Map.of()));
        }
        topics.add(topic(CONTROL, 1, replication, Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(CONTROL_RETENTION_MS))));
        for (String pool : pools) {
            topics.add(jobsTopic(pool, partitions, replication));
        }
        return topics;
    }

    /** The triggers' topic: one partition, as every sources instance reads all of it and it holds one record per trigger. */
    public static NewTopic triggersTopic(short replication) {
        return topic(TRIGGERS, 1, replication, Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
    }

    /** A pool's job topic, as {@link #core} makes them ({@code replication} -1: the broker's default). */
    public static NewTopic jobsTopic(String pool, int partitions, short replication) {
        return topic(jobs(pool), partitions, replication, Map.of());
    }

    private static NewTopic topic(String name, int partitions, short replication, Map<String, String> configs) {
        Map<String, String> all = new java.util.HashMap<>(configs);
        all.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(MAX_RECORD_BYTES));
        return (replication > 0 ? new NewTopic(name, partitions, replication) : new NewTopic(name, java.util.Optional.of(partitions),
                java.util.Optional.empty())).configs(all);
    }

    /** Creates whichever of {@code topics} do not exist yet; returns the names it created (another creating one meanwhile is fine). */
    public static List<String> ensure(Admin admin, List<NewTopic> topics) {
        try {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
            if (missing.isEmpty()) {
                return List.of();
            }
            List<String> created = new ArrayList<>();
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> each : admin.createTopics(missing).values().entrySet()) {
                try {
                    each.getValue().get();
                    created.add(each.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            return created;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating Wharf topics", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Could not create Wharf topics: " + e.getCause().getMessage(), e.getCause());
        }
    }
}
