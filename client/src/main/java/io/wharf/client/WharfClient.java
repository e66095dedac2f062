package io.wharf.client;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import io.wharf.config.KafkaClientSettings;
import io.wharf.records.Control;
import io.wharf.records.ControlAction;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.LogLine;
import io.wharf.records.PoolPolicy;
import io.wharf.records.ApiKey;
import io.wharf.rules.ApiKeys;
import io.wharf.rules.FunctionRules;
import io.wharf.rules.JobStates;
import io.wharf.rules.PoolPolicies;
import io.wharf.records.Schedule;
import io.wharf.rules.Schedules;
import io.wharf.records.TenantSpec;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.RegistrySettings;
import io.wharf.topics.Topics;

/**
 * Wharf's Java client: deploy functions, invoke them and await their results (as futures), follow results,
 * cancel jobs, set schedules and tenants. Plain Kafka clients and the schema registry; the CLI is built on it.
 */
public final class WharfClient implements AutoCloseable {
    public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
    /** The client's own settings beside Kafka's: where the cluster is, and how to reach the registry. */
    public static final ConfigDef SETTINGS = RegistrySettings.define(new ConfigDef())
            .define(BOOTSTRAP_SERVERS_CONFIG, ConfigDef.Type.STRING, null, ConfigDef.Importance.HIGH, "Kafka brokers to bootstrap from.");

    private final Endpoints endpoints;
    private final HttpSchemaRegistryClient registry;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaClientSettings kafka;
    private final PayloadSealing sealing = new PayloadSealing(() -> view(Topics.FUNCTIONS, FunctionSpec.class, (name, spec) -> { }));
    private final EventCalls calls;

    public WharfClient(Endpoints endpoints) {
        this(endpoints, Map.of());
    }

    /**
     * {@code settings}: Kafka client settings for this client's producer, consumers and admin client (TLS, SASL:
     * {@code security.protocol}, {@code ssl.*}, {@code sasl.*}; {@code producer.}, {@code consumer.}, {@code admin.}
     * aim one at one kind), and the registry's credentials and trust store ({@link RegistrySettings}).
     *
     * @throws org.apache.kafka.common.config.ConfigException naming a key that is neither
     */
    public WharfClient(Endpoints endpoints, Map<String, ?> settings) {
        this.endpoints = endpoints;
        this.registry = new HttpSchemaRegistryClient(registrySettings(endpoints.registry(), settings));
        this.kafka = new KafkaClientSettings(settings, SETTINGS);
        Properties p = client(KafkaClientSettings.Kind.PRODUCER);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_RECORD_BYTES);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.calls = new EventCalls(producer, registry, endpoints.bootstrap(), this::send,
                () -> new KafkaConsumer<>(committedReader(), new StringDeserializer(), new ByteArrayDeserializer()), sealing, this::state,
                this::result);
    }

    /** Of a role's settings, what its client takes: Kafka's and the client's own keys, not the role's ({@code own}). */
    public static Map<String, Object> clientSettings(Map<String, ?> originals, java.util.Set<String> own) {
        Map<String, Object> settings = new HashMap<>();
        originals.forEach((key, value) -> {
            if (!own.contains(key) || SETTINGS.names().contains(key)) {
                settings.put(key, value);
            }
        });
        return settings;
    }

    /** The registry at {@code url} with the credentials and trust store {@code settings} name. */
    public static RegistrySettings registrySettings(String url, Map<String, ?> settings) {
        Map<String, Object> own = new HashMap<>(settings);
        own.put(RegistrySettings.URL_CONFIG, url);
        return RegistrySettings.from(new AbstractConfig(SETTINGS, own, false));
    }

    /**
     * Registers or updates a function, creating its pool's job topic if needed.
     *
     * @throws IllegalArgumentException when no job could run with the function, or it asks for more than its pool's
     *                                  policy allows, saying what
     */
    public void deploy(FunctionSpec spec) {
        FunctionRules.violation(spec).ifPresent(reason -> {
            throw new IllegalArgumentException("Function " + spec.getName() + " is refused: " + reason);
        });
        PoolPolicy policy;
        try {
            policy = policy(spec.getPool());
        } catch (AuthorizationException denied) {
            throw notAuthorized("deploy " + spec.getName() + " (read its pool's policy on " + Topics.POOLS + ")", denied);
        }
        PoolPolicies.violation(policy, spec).ifPresent(reason -> {
            throw new IllegalArgumentException("Function " + spec.getName() + " is refused: " + reason);
        });
        try (Admin admin = admin()) {
            int partitions = admin.describeTopics(List.of(Topics.EVENTS)).allTopicNames().get().get(Topics.EVENTS).partitions().size();
            Topics.ensure(admin, List.of(Topics.jobsTopic(spec.getPool(), partitions, (short) -1)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        } catch (ExecutionException | IllegalStateException e) {
            if (e.getCause() instanceof AuthorizationException denied) {
                throw notAuthorized("deploy " + spec.getName() + " (create " + Topics.jobs(spec.getPool()) + ")", denied);
            }
            throw new IllegalStateException("Wharf's topics are missing on " + endpoints.bootstrap() + " (" + e.getCause().getMessage()
                    + "): is this a Wharf installation? `wharf topics create` makes them", e);
        }
        send(Topics.FUNCTIONS, spec.getName(), new AvroSerializer<FunctionSpec>(registry).serialize(Topics.FUNCTIONS, spec));
    }

    /** Triggers: the user's topics that run functions. */
    public Triggers triggers() {
        return new Triggers(this, registry, endpoints.bootstrap());
    }

    /** An admin client with this client's settings (TLS, SASL), for set-up: topics, ACLs. */
    public Admin admin() {
        return Admin.create(client(KafkaClientSettings.Kind.ADMIN));
    }

    private IllegalStateException notAuthorized(String what, AuthorizationException denied) {
        return new IllegalStateException("Not authorized to " + what + " on " + endpoints.bootstrap() + ": " + denied.getMessage()
                + ". Deploying needs the operator's ACLs, invoking the invoker's: `wharf acls ROLE --principal User:NAME` lists them", denied);
    }

    /** Creates or replaces a schedule; the dispatcher validates it again and dead-letters what it refuses. */
    public void schedule(Schedule schedule) {
        Schedules.validate(schedule);
        send(Topics.SCHEDULES, schedule.getId(), new AvroSerializer<Schedule>(registry).serialize(Topics.SCHEDULES, sealing.seal(schedule)));
    }

    public void deleteSchedule(String id) {
        send(Topics.SCHEDULES, id, null);
    }

    /** The current schedules: the compacted topic read to its end, last record per id, deleted ones left out. */
    public Map<String, Schedule> schedules() {
        return current(Topics.SCHEDULES, Schedule.class);
    }

    /** The deployed functions, by name, as {@link #schedules()} reads schedules. */
    public Map<String, FunctionSpec> functions() {
        return current(Topics.FUNCTIONS, FunctionSpec.class);
    }

    <T extends org.apache.avro.specific.SpecificRecord> Map<String, T> current(String topic, Class<T> type) {
        return current(topic, type, (older, newer) -> newer);
    }

    /** A job's state as wharf.status holds it now, if it is there (jobs are kept 7 days). */
    public java.util.Optional<JobState> state(String jobId) {
        java.util.concurrent.atomic.AtomicReference<JobState> folded = new java.util.concurrent.atomic.AtomicReference<>();
        jobRecords().read(Topics.STATUS, jobId, Instant.EPOCH, new AvroDeserializer<>(registry, JobState.class), false, () -> true,
                next -> folded.set(JobStates.fold(folded.get(), next)));
        return java.util.Optional.ofNullable(folded.get());
    }

    /** Every job's state on wharf.status, by job id (a full read of the topic: for tools, not for a hot path). */
    public Map<String, JobState> states() {
        return current(Topics.STATUS, JobState.class, JobStates::fold);
    }

    private <T extends org.apache.avro.specific.SpecificRecord> Map<String, T> current(String topic, Class<T> type,
                                                                                     java.util.function.BinaryOperator<T> fold) {
        Map<String, T> current = new java.util.TreeMap<>();
        AvroDeserializer<T> deserializer = new AvroDeserializer<>(registry, type);
        reads().toEnd(topic, (begin, end) -> begin, record -> {
            if (record.value() == null) {
                current.remove(record.key());
                return;
            }
            try {
                current.put(record.key(), fold.apply(current.get(record.key()), deserializer.deserialize(topic, record.value())));
            } catch (RuntimeException e) {
                current.remove(record.key()); // refused by the dispatcher too; the dead-letter topic says why
            }
        });
        return current;
    }

    /**
     * A live view of a compacted topic: every key's latest value, kept current by one consumer thread until closed.
     * {@code onChange} hears each change after the view holds it.
     */
    public <T extends org.apache.avro.specific.SpecificRecord> TopicView<T> view(String topic, Class<T> type,
                                                                               java.util.function.BiConsumer<String, T> onChange) {
        Properties c = committedReader();
        return new TopicView<>(c, topic, new AvroDeserializer<>(registry, type), onChange);
    }

    /**
     * As {@link #view(String, Class, java.util.function.BiConsumer)}, folding each key's records and bounded: a view of
     * a busy topic (job states), which may trail its end by up to {@link #TRAIL}.
     */
    public <T extends org.apache.avro.specific.SpecificRecord> TopicView<T> view(String topic, Class<T> type, java.util.function.BinaryOperator<T> fold,
                                                                               TopicView.Bound<T> bound, java.util.function.BiConsumer<String, T> onChange) {
        Properties c = trailing(committedReader());
        return new TopicView<>(c, topic, new AvroDeserializer<>(registry, type), fold, bound, onChange);
    }

    /** The final result of a job that ended about {@code endedAt} (its state's time), read from its partition of wharf.results. */
    public java.util.Optional<JobResult> result(String jobId, Instant endedAt) {
        return jobRecords().last(Topics.RESULTS, jobId, endedAt, new AvroDeserializer<>(registry, JobResult.class));
    }

    /**
     * Calls {@code sink} with each log line of a job that began about {@code from}: those written so far, or, with
     * {@code follow}, on until {@code ended} says the job ended.
     */
    public void logs(String jobId, Instant from, boolean follow, java.util.function.BooleanSupplier ended, Consumer<LogLine> sink) {
        jobRecords().read(Topics.LOGS, jobId, from, new AvroDeserializer<>(registry, LogLine.class), follow, ended, sink);
    }

    private JobRecords jobRecords() {
        return new JobRecords(this::committedReader);
    }

    private TopicReads reads() {
        return new TopicReads(this::committedReader);
    }

    /** A pool's policy: the one an operator set, else the defaults. */
    public PoolPolicy policy(String pool) {
        return current(Topics.POOLS, PoolPolicy.class).getOrDefault(pool, PoolPolicies.defaults(pool));
    }

    /** Every policy an operator set, by pool. */
    public Map<String, PoolPolicy> policies() {
        return current(Topics.POOLS, PoolPolicy.class);
    }

    /** Sets a pool's policy (operators only); null restores the defaults. */
    public void policy(String pool, PoolPolicy policy) {
        Topics.jobs(pool); // validates the name
        send(Topics.POOLS, pool, policy == null ? null : new AvroSerializer<PoolPolicy>(registry).serialize(Topics.POOLS, policy));
    }

    /**
     * How many workers serve a pool now (members of its consumer group), or empty when this client may not see it.
     */
    public java.util.OptionalInt workers(String pool) {
        String group = "wharf-workers-" + pool;
        try (Admin admin = admin()) {
            return java.util.OptionalInt.of(admin.describeConsumerGroups(List.of(group)).all().get(15, TimeUnit.SECONDS).get(group).members().size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.OptionalInt.empty();
        } catch (ExecutionException e) {
            // A group nobody ever joined does not exist: no worker.
            return e.getCause() instanceof org.apache.kafka.common.errors.GroupIdNotFoundException ? java.util.OptionalInt.of(0)
                    : java.util.OptionalInt.empty();
        } catch (TimeoutException e) {
            return java.util.OptionalInt.empty();
        }
    }

    /** Makes an API key of the gateway for {@code tenant}; the returned key is the only copy (Kafka keeps its hash). */
    public ApiKeys.Issued issueApiKey(String tenant, boolean admin, String description) {
        ApiKeys.Issued issued = ApiKeys.issue(tenant, admin, description, Instant.now());
        send(Topics.API_KEYS, issued.record().getId(), new AvroSerializer<ApiKey>(registry).serialize(Topics.API_KEYS, issued.record()));
        return issued;
    }

    /** The gateway's API keys that are not revoked, by id (their hashes, never the keys). */
    public Map<String, ApiKey> apiKeys() {
        return current(Topics.API_KEYS, ApiKey.class);
    }

    /** Revokes an API key: gateways refuse it once they read the tombstone. */
    public void revokeApiKey(String id) {
        send(Topics.API_KEYS, id, null);
    }

    /** Removes a function: the tombstone the dispatcher reads, after which its events are REJECTED as unknown. */
    public void undeploy(String name) {
        send(Topics.FUNCTIONS, name, null);
    }

    /**
     * The last {@code perPartition} records of each partition of {@code topic} (dead letters, say), oldest first
     * within a partition; records that do not decode are left out.
     */
    public <T extends org.apache.avro.specific.SpecificRecord> List<T> latest(String topic, Class<T> type, int perPartition) {
        AvroDeserializer<T> deserializer = new AvroDeserializer<>(registry, type);
        List<T> out = new java.util.ArrayList<>();
        reads().toEnd(topic, (begin, end) -> Math.max(begin, end - perPartition), record -> {
            if (record.value() != null) {
                try {
                    out.add(deserializer.deserialize(topic, record.value()));
                } catch (RuntimeException e) {
                    // not one of Wharf's records: not listed
                }
            }
        });
        return out;
    }

    /** Writes a record's bytes as they are, e.g. a dead letter's original event replayed to wharf.events. */
    public void resend(String topic, String key, byte[] value) {
        send(topic, key, value);
    }

    /** Writes a function's spec as it is (no topic made): for re-sealing its secrets. */
    public void update(FunctionSpec spec) {
        send(Topics.FUNCTIONS, spec.getName(), new AvroSerializer<FunctionSpec>(registry).serialize(Topics.FUNCTIONS, spec));
    }

    /** Every tenant's limits, by tenant. */
    public Map<String, TenantSpec> tenants() {
        return current(Topics.TENANTS, TenantSpec.class);
    }

    /** Sets a tenant's limits (shared by all its functions); null removes them. */
    public void tenant(String name, TenantSpec spec) {
        send(Topics.TENANTS, name, spec == null ? null : new AvroSerializer<TenantSpec>(registry).serialize(Topics.TENANTS, spec));
    }

    /** Asks every worker to cancel the job: a running job's container is killed, a queued one skipped. */
    public void cancel(String jobId, String reason) {
        Control control = Control.newBuilder().setJobId(jobId).setAction(ControlAction.CANCEL).setReason(reason)
                .setRequestedAt(Instant.now()).build();
        send(Topics.CONTROL, jobId, new AvroSerializer<Control>(registry).serialize(Topics.CONTROL, control));
    }

    /** An event for {@code function} as a person sends one (source MANUAL), under a new id. */
    public Event event(String function, byte[] payload, String contentType) {
        return calls.event(function, payload, contentType);
    }

    /**
     * Sends the event; the future completes with its job's final result (exceptionally if the event could not be
     * sent). Add a timeout with {@link CompletableFuture#orTimeout}.
     */
    public CompletableFuture<JobResult> invokeAsync(Event event) {
        return invokeAsync(event, Resend.POSSIBLE);
    }

    /** As {@link #invokeAsync(Event)}, saying whether the caller may send the same event again. */
    public CompletableFuture<JobResult> invokeAsync(Event event, Resend resend) {
        return calls.invokeAsync(event, resend);
    }

    /**
     * The final result of job {@code jobId} when it comes, from now on; one written before is not seen (look at
     * {@link #state} after calling this).
     */
    public CompletableFuture<JobResult> awaitResult(String jobId) {
        return calls.awaitResult(jobId);
    }

    /** The final result of job {@code jobId}: the one already written, else the one to come. */
    public CompletableFuture<JobResult> resultOf(String jobId) {
        return calls.resultOf(jobId);
    }

    /** Sends the event without waiting for its result (which arrives on wharf.results under the event's id). */
    public void send(Event event) {
        calls.send(event);
    }

    /**
     * Whether a caller may send an event again with the same id (a retry after a timeout), which the dispatcher's
     * dedupe window answers with the first one's job.
     */
    public enum Resend {
        /** It may come again: the dispatcher remembers its id for its dedupe window. */
        POSSIBLE,
        /** Its id was made for this one send and it never comes again (a gateway request): nothing to remember. */
        NEVER
    }

    /** Where this client finds a function's payload key (PEM, null for none) to seal what it sends; a gateway gives its view. */
    public void payloadKeys(java.util.function.Function<String, String> keys) {
        sealing.keys(keys);
    }

    /**
     * Sends the event after writing its job's first state (QUEUED) to wharf.status, so that the job can be looked up
     * (and its callback found) from the moment this returns.
     */
    public void submit(Event event) {
        submit(event, Resend.POSSIBLE);
    }

    /** As {@link #submit(Event)}, saying whether the caller may send the same event again. */
    public void submit(Event event, Resend resend) {
        calls.submit(event, resend);
    }

    /** Sends the event and waits for its job's final result. */
    public JobResult invoke(Event event, Duration timeout) throws TimeoutException {
        return calls.invoke(event, timeout);
    }

    /** Sends all events at once and waits until each has a result; returns how many arrived within the timeout. */
    public int invokeAll(List<Event> events, Duration timeout) {
        return calls.invokeAll(events, timeout);
    }

    /** Calls {@code sink} with each result, from the end of the topic (or its beginning), until interrupted. */
    public void follow(boolean fromBeginning, Consumer<JobResult> sink) {
        try (KafkaConsumer<String, JobResult> results = resultsConsumer()) {
            List<TopicPartition> partitions = ResultWaiter.assignAtEnd(results);
            if (fromBeginning) {
                results.seekToBeginning(partitions);
            }
            while (!Thread.currentThread().isInterrupted()) {
                results.poll(Duration.ofMillis(200)).forEach(r -> sink.accept(r.value()));
            }
        }
    }

    private KafkaConsumer<String, JobResult> resultsConsumer() {
        Properties c = committedReader();
        return new KafkaConsumer<>(c, new StringDeserializer(), new AvroDeserializer<>(registry, JobResult.class));
    }

    /**
     * A consumer of committed records in consumer group {@code group} (offsets committed by the caller), for a
     * service that shares one topic's records among its instances and may trail its end by up to {@link #TRAIL}.
     */
    public <T extends org.apache.avro.specific.SpecificRecord> KafkaConsumer<String, T> groupConsumer(String group, Class<T> type) {
        return groupConsumer(group, type, false);
    }

    /** As {@link #groupConsumer(String, Class)}; a group without committed offsets starts at the oldest record kept when {@code fromBeginning}. */
    public <T extends org.apache.avro.specific.SpecificRecord> KafkaConsumer<String, T> groupConsumer(String group, Class<T> type, boolean fromBeginning) {
        Properties c = trailing(committedReader());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
        return new KafkaConsumer<>(c, new StringDeserializer(), new AvroDeserializer<>(registry, type));
    }

    /** How far behind a busy topic's end its group consumers and bounded views may read. */
    public static final Duration TRAIL = Duration.ofMillis(100);

    /**
     * A reader that may trail: a fetch waits for 64 KiB or {@link #TRAIL}, so under load it asks a few times a second
     * instead of after each transaction that ends (each costs the broker a fetch and this thread a poll). Settings a
     * user gave win.
     */
    private static Properties trailing(Properties c) {
        c.putIfAbsent(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 64 * 1024);
        c.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) TRAIL.toMillis());
        return c;
    }

    /** A consumer's settings for reading committed records without a group. */
    private Properties committedReader() {
        Properties c = client(KafkaClientSettings.Kind.CONSUMER);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_RECORD_BYTES);
        return c;
    }

    private Properties client(KafkaClientSettings.Kind kind) {
        return kafka.properties(kind, endpoints.bootstrap());
    }

    void send(String topic, String key, byte[] value) {
        send(new ProducerRecord<>(topic, key, value));
    }

    private void send(ProducerRecord<String, byte[]> record) {
        String topic = record.topic();
        try {
            producer.send(record).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while sending to " + topic, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException denied) {
                throw notAuthorized("write to " + topic, denied);
            }
            throw new IllegalStateException("Could not write to " + topic + " on " + endpoints.bootstrap() + ": " + e.getCause().getMessage(), e);
        }
    }

    @Override
    public void close() {
        calls.close();
        sealing.close();
        producer.close(Duration.ofSeconds(5));
    }
}
