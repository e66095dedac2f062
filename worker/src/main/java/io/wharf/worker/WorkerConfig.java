package io.wharf.worker;

import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import io.wharf.config.KafkaClientSettings;
import io.wharf.config.KafkaClientSettings.Kind;
import io.wharf.secrets.SealedSecrets;
import io.wharf.ops.Management;
import io.wharf.secrets.SecretsSettings;
import io.wharf.serde.AvroSerdeConfig;
import io.wharf.serde.RegistrySettings;
import io.wharf.topics.Topics;

/**
 * A worker's settings. Every key is declared here with its type, default, check and meaning; Kafka client settings
 * (TLS, SASL, tuning) pass through to the worker's clients (see {@link KafkaClientSettings}), under the settings
 * the worker's guarantees depend on, which it sets itself.
 */
public final class WorkerConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
    public static final String REGISTRY_URL_CONFIG = AvroSerdeConfig.REGISTRY_URL_CONFIG;
    public static final String POOL_CONFIG = "wharf.worker.pool";
    public static final String SLOTS_CONFIG = "wharf.worker.slots";
    public static final String PREFETCH_CONFIG = "wharf.worker.prefetch";
    public static final String ID_CONFIG = "wharf.worker.id";
    public static final String SESSION_TIMEOUT_MS_CONFIG = "wharf.worker.session.timeout.ms";
    public static final String COMMIT_INTERVAL_MS_CONFIG = "wharf.worker.commit.interval.ms";
    public static final String COMMIT_LINGER_MS_CONFIG = "wharf.worker.commit.linger.ms";
    public static final String MAX_BODY_BYTES_CONFIG = "wharf.worker.max.body.bytes";
    public static final String MAX_LOG_BYTES_CONFIG = "wharf.worker.max.log.bytes";
    public static final String IMAGE_CACHE_BYTES_CONFIG = "wharf.worker.image.cache.bytes";
    public static final String PRESTART_CONFIG = "wharf.worker.prestart";
    public static final String SHIM_PATH_CONFIG = "wharf.worker.shim.path";
    public static final String PULL_TIMEOUT_MS_CONFIG = "wharf.worker.pull.timeout.ms";
    public static final String HOST_CREDENTIALS_CONFIG = "wharf.worker.host.credentials";
    public static final String CGROUP_ROOT_CONFIG = "wharf.worker.cgroup.root";
    public static final String WORK_DIR_CONFIG = "wharf.worker.work.dir";
    public static final String DRAIN_TIMEOUT_MS_CONFIG = "wharf.worker.drain.timeout.ms";
    public static final String BROKER_TIMEOUT_MS_CONFIG = "wharf.worker.broker.timeout.ms";
    public static final String MAX_CRASHES_CONFIG = "wharf.worker.max.crashes";
    public static final String MAX_UNCOMMITTED_BYTES_CONFIG = "wharf.worker.max.uncommitted.bytes";
    public static final String LOG_BUFFER_BYTES_CONFIG = "wharf.worker.log.buffer.bytes";
    public static final String SECRETS_KEY_CONFIG = SealedSecrets.KEY_SETTING;
    public static final String SECRETS_KEY_FILE_CONFIG = SealedSecrets.KEY_FILE_SETTING;

    /** Where a worker run as a process serves /metrics, /healthz and /readyz unless told otherwise. */
    public static final int MANAGEMENT_PORT = 9471;
    public static final String MANAGEMENT_HOST_CONFIG = Management.hostKey("worker");
    public static final String MANAGEMENT_PORT_CONFIG = Management.portKey("worker");

    private static final ConfigDef DEF = Management.define(SecretsSettings.define(RegistrySettings.define(new ConfigDef()), "open functions' "
            + "sealed registry passwords and secret environment (sealed by `wharf deploy` with a key in WHARF_SECRETS_KEY); without them a "
            + "function with a sealed value fails its jobs saying so"), "worker", MANAGEMENT_PORT)
            .define(BOOTSTRAP_SERVERS_CONFIG, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.ValidList.anyNonDuplicateValues(false, false), Importance.HIGH,
                    "Kafka brokers to bootstrap from, host:port[,host:port].")
            .define(POOL_CONFIG, Type.STRING, Topics.DEFAULT_POOL, new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "The pool this worker serves: it consumes " + Topics.JOBS_PREFIX + "<pool> in consumer group wharf-workers-<pool>.")
            .define(SLOTS_CONFIG, Type.INT, 4, Range.between(1, 1024), Importance.HIGH,
                    "Jobs this worker runs at once; when all slots are busy it pauses its partitions.")
            .define(PREFETCH_CONFIG, Type.INT, 16, Range.between(1, 10_000), Importance.MEDIUM,
                    "Jobs taken from Kafka but not yet running, at most; beyond it the worker pauses its partitions. "
                            + "A larger window lets other ordering keys pass a key that is busy.")
            .define(ID_CONFIG, Type.STRING, "", Importance.MEDIUM,
                    "This worker's id, on its results, transactions and container labels; unique per worker. Unset, WorkerMain "
                            + "takes HOST-POOL (the host's name), so a restart finds what the previous run left; a worker made in a JVM takes a random one.")
            .define(SESSION_TIMEOUT_MS_CONFIG, Type.INT, 10_000, Range.between(1_000, 300_000), Importance.MEDIUM,
                    "How long the group waits for a silent worker before its jobs move to another worker.")
            .define(COMMIT_INTERVAL_MS_CONFIG, Type.INT, 0, Range.between(0, 10_000), Importance.MEDIUM,
                    "Results are committed in a transaction at most this often; 0 commits as soon as a result is ready "
                            + "(lowest latency, one transaction per loop turn).")
            .define(COMMIT_LINGER_MS_CONFIG, Type.INT, 10, Range.between(0, 1_000), Importance.LOW,
                    "A finished job's result waits up to this long for jobs that started less than this before and still "
                            + "run, so that a burst of quick jobs commits in one transaction rather than one each (a transaction "
                            + "takes a few ms however many results it carries, and the next one waits for it); 0 never waits.")
            .define(MAX_BODY_BYTES_CONFIG, Type.INT, 1024 * 1024, Range.between(0, 8 * 1024 * 1024), Importance.MEDIUM,
                    "The result body keeps at most this much of stdout; beyond it the result is flagged truncated.")
            .define(MAX_LOG_BYTES_CONFIG, Type.LONG, 8L * 1024 * 1024, Range.atLeast(0), Importance.MEDIUM,
                    "Output lines of one job attempt streamed to wharf.logs at most; beyond it lines are dropped and a "
                            + "final SYSTEM line says how many bytes were.")
            .define(IMAGE_CACHE_BYTES_CONFIG, Type.LONG, 20L * 1024 * 1024 * 1024, Range.atLeast(0), Importance.MEDIUM,
                    "Disk the images this worker pulled may use; beyond it the least recently used images no job is using "
                            + "are removed. Images the worker did not pull are never removed.")
            .define(PRESTART_CONFIG, Type.INT, 0, Range.between(0, 64), Importance.MEDIUM,
                    "Fresh containers per recently used function started ahead of need, so a cold job skips the engine's "
                            + "create and start; each still serves one job. Their labels cannot name a job they did not know "
                            + "yet: the worker keeps which job each runs. 0 (default) turns this off.")
            .define(SHIM_PATH_CONFIG, Type.STRING, "/bin/busybox", Importance.LOW,
                    "A static busybox on the worker's host, bind-mounted read-only into pre-started containers to wait for "
                            + "their job (Debian: busybox-static). Without one, containers are not pre-started.")
            .define(PULL_TIMEOUT_MS_CONFIG, Type.LONG, 300_000L, Range.atLeast(1_000), Importance.LOW,
                    "An image pull that takes longer fails the job with a clear reason.")
            .define(HOST_CREDENTIALS_CONFIG, Type.BOOLEAN, false, Importance.LOW,
                    "Functions without registry credentials pull with the host's Docker credentials (~/.docker/config.json). Off: "
                            + "they pull anonymously, so no function borrows access the host has; every function that may use the "
                            + "host's access can then pull what any of them can.")
            .define(CGROUP_ROOT_CONFIG, Type.STRING, "/sys/fs/cgroup", Importance.LOW,
                    "Where the Docker engine's cgroup file system is seen (mount the host's there when the worker runs in a container), "
                            + "to measure each job's CPU seconds, peak memory and block I/O; empty measures nothing. Needs the engine's "
                            + "cgroupfs driver.")
            .define(WORK_DIR_CONFIG, Type.STRING, System.getProperty("java.io.tmpdir") + "/wharf-worker", Importance.LOW,
                    "Host directory for payload files (bind-mounted read-only into containers).")
            .define(DRAIN_TIMEOUT_MS_CONFIG, Type.LONG, 30_000L, Range.atLeast(0), Importance.LOW,
                    "On close, running jobs get this long to finish before they are abandoned to another worker.")
            .define(BROKER_TIMEOUT_MS_CONFIG, Type.LONG, 120_000L, Range.atLeast(1_000), Importance.MEDIUM,
                    "A worker that hears from no Kafka broker for this long fails (WorkerMain exits 1), so that its supervisor "
                            + "restarts it; its unfinished jobs run again on the partitions' next owner. Keep it above the time "
                            + "a broker restart or a rebalance takes.")
            .define(MAX_UNCOMMITTED_BYTES_CONFIG, Type.LONG, 64L * 1024 * 1024, Range.atLeast(0), Importance.MEDIUM,
                    "Results of finished jobs wait in memory until a commit covers them (above a long-running job of their "
                            + "partition, or while the brokers are away). Past this many bytes of them no new job starts until "
                            + "commits catch up; running jobs finish (each result is at most max.body.bytes plus its stderr tail).")
            .define(LOG_BUFFER_BYTES_CONFIG, Type.LONG, 16L * 1024 * 1024, Range.atLeast(1024 * 1024), Importance.LOW,
                    "Memory for log lines on their way to wharf.logs. While the brokers are away lines wait here; past it (or "
                            + "past delivery.timeout.ms) they are dropped, never blocking the job, and each attempt's log ends "
                            + "with a line saying how many of its lines were lost.")
            .define(MAX_CRASHES_CONFIG, Type.INT, 3, Range.between(1, 1000), Importance.MEDIUM,
                    "A job that was running on this many workers that died without finishing it (crashed, killed, or cut off "
                            + "from the brokers past their session timeout) is not run again: it gets a FAILED result saying so "
                            + "and its job record goes to wharf.dlq. Crashes are counted from the partition's offset metadata.");


    private final String workerId;
    private final KafkaClientSettings passThrough;

    /** @throws ConfigException naming a key that is missing, invalid, or neither a worker nor a Kafka client setting */
    public WorkerConfig(Map<?, ?> props) {
        super(DEF, props, false);
        String id = getString(ID_CONFIG);
        this.workerId = id.isBlank() ? "worker-" + UUID.randomUUID().toString().substring(0, 8) : id;
        Topics.jobs(getString(POOL_CONFIG)); // validates the pool name
        this.passThrough = new KafkaClientSettings(originals(), DEF);
    }

    /** The job consumer: one group per pool, read-committed, offsets committed only with results. */
    public Properties jobConsumerProperties() {
        Properties c = client(Kind.CONSUMER, workerId);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "wharf-workers-" + pool());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, Math.min(getInt(PREFETCH_CONFIG), 500)));
        int session = getInt(SESSION_TIMEOUT_MS_CONFIG);
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, session);
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(300, session / 4));
        c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_RECORD_BYTES);
        return c;
    }

    /** The result producer: transactional (its id is the worker's), so results and offsets commit together. */
    public Properties resultProducerProperties() {
        Properties p = client(Kind.PRODUCER, workerId + "-results"); // its own id: each client's meters are tagged by it
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "wharf-worker-" + workerId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_RECORD_BYTES);
        p.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, KafkaClientSettings.TRANSACTIONAL_RETRY_BACKOFF_MS);
        return p;
    }

    /** The log producer: outside the result transactions, as logs must flow while a job runs; batched and compressed. */
    public Properties logProducerProperties() {
        Properties l = client(Kind.PRODUCER, workerId + "-logs");
        l.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        l.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        l.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        l.put(ProducerConfig.BUFFER_MEMORY_CONFIG, getLong(LOG_BUFFER_BYTES_CONFIG));
        // A full buffer (brokers away) drops a line after this, rather than stalling the job's output.
        l.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 250);
        return l;
    }

    /** The control consumer: reads every cancel request, without a group. */
    public Properties controlConsumerProperties() {
        Properties c = client(Kind.CONSUMER, workerId + "-control");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return c;
    }

    /** An admin client, to read the topics' record limits at start. */
    public Properties adminProperties() {
        return client(Kind.ADMIN, workerId + "-admin");
    }

    /** Pass-through settings first, then where the cluster is and who this client is. */
    private Properties client(Kind kind, String clientId) {
        Properties props = passThrough.properties(kind, String.join(",", getList(BOOTSTRAP_SERVERS_CONFIG)));
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        return props;
    }

    public static ConfigDef configDef() {
        return DEF;
    }

    /** Where the schema registry is and how to authenticate to it. */
    public RegistrySettings registry() {
        return RegistrySettings.from(this);
    }

    public String workerId() {
        return workerId;
    }

    public String pool() {
        return getString(POOL_CONFIG);
    }

    /** The keys that open sealed values, or null when none are set. */
    public SealedSecrets secrets() {
        return SecretsSettings.from(this);
    }
}
