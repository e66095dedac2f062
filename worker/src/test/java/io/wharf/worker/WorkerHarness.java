package io.wharf.worker;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.github.dockerjava.api.DockerClient;

import io.wharf.records.DeadLetter;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.PoolPolicy;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.Committed;
import io.wharf.testkit.SharedServices;
import io.wharf.worker.runtime.Labels;
import io.wharf.topics.Topics;


/** Shared plumbing of the worker's integration tests: a pool of their own, jobs in, results out. */
final class WorkerHarness implements AutoCloseable {
    final EmbeddedKafka kafka = SharedServices.kafka();
    final HttpSchemaRegistryClient registry = new HttpSchemaRegistryClient(SharedServices.registry().confluentUrl());
    final DockerClient docker = DockerEngine.client();
    final String image = LocalImages.busybox(docker);
    final String pool = "it-" + UUID.randomUUID().toString().substring(0, 8);
    final List<Worker> workers = new ArrayList<>();
    private final KafkaProducer<String, Job> producer;
    private final KafkaConsumer<String, JobResult> results;

    WorkerHarness(int partitions) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            Topics.ensure(admin, Topics.core(4, (short) 1, List.of()));
            Topics.ensure(admin, List.of(Topics.jobsTopic(pool, partitions, (short) 1)));
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024);
        producer = new KafkaProducer<>(p, new StringSerializer(), new AvroSerializer<>(registry));
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "results-" + pool);
        results = new KafkaConsumer<>(c, new StringDeserializer(), new AvroDeserializer<>(registry, JobResult.class));
        results.subscribe(List.of(Topics.RESULTS));
        // Join the group before jobs run, so "latest" cannot skip a fast result.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (results.assignment().isEmpty() && System.nanoTime() < deadline) {
            results.poll(Duration.ofMillis(100));
        }
    }

    Map<String, Object> workerSettings(String id, int slots) {
        return Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                WorkerConfig.REGISTRY_URL_CONFIG, registry.url(),
                WorkerConfig.POOL_CONFIG, pool,
                WorkerConfig.SLOTS_CONFIG, slots,
                WorkerConfig.ID_CONFIG, id,
                WorkerConfig.SESSION_TIMEOUT_MS_CONFIG, 3000,
                WorkerConfig.MANAGEMENT_PORT_CONFIG, 0); // several may run on this host
    }

    /** Sets this pool's policy, as `wharf pool set` does; workers started after it have it from their start. */
    void policy(PoolPolicy policy) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, PoolPolicy> policies = new KafkaProducer<>(p, new StringSerializer(), new AvroSerializer<>(registry))) {
            policies.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.POOLS, pool, policy)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    Worker startWorker(String id, int slots) {
        return startWorker(id, slots, Map.of());
    }

    Worker startWorker(String id, int slots, Map<String, Object> extra) {
        Map<String, Object> settings = new java.util.HashMap<>(workerSettings(id, slots));
        settings.putAll(extra);
        Worker worker = new Worker(settings).start();
        workers.add(worker);
        return worker;
    }

    FunctionSpec.Builder function(String name) {
        return FunctionSpec.newBuilder().setName(name).setImage(image).setPool(pool).setMemoryMb(64).setTimeoutMillis(30_000);
    }

    Job job(String jobId, FunctionSpec fn, byte[] payload) {
        Instant now = Instant.now();
        return Job.newBuilder().setJobId(jobId).setFunction(fn).setPayload(ByteBuffer.wrap(payload))
                .setEventCreatedAt(now).setEnqueuedAt(now).build();
    }

    void submit(Job job) {
        submit(job, job.getJobId());
    }

    void submit(Job job, String recordKey) {
        producer.send(new ProducerRecord<>(Topics.jobs(pool), recordKey, job));
        producer.flush();
    }

    /** Sends bytes (or null) to the job topic as they are, as a client that bypasses the dispatcher could. */
    void submitRaw(String key, byte[] value) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(p, new StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            raw.send(new ProducerRecord<>(Topics.jobs(pool), key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends the jobs in order, flushing once. */
    void submitAll(List<Job> jobs) {
        jobs.forEach(job -> producer.send(new ProducerRecord<>(Topics.jobs(pool), job.getJobId(), job)));
        producer.flush();
    }

    /** Every committed result of this pool's functions on the results topic, from its beginning. */
    List<JobResult> allResults() {
        return readAll(Topics.RESULTS, JobResult.class).stream().filter(r -> r.getFunction().startsWith(pool)).toList();
    }

    /** Every committed dead letter so far whose record came from {@code topic}. */
    List<DeadLetter> deadLetters(String topic) {
        return readAll(Topics.DLQ, DeadLetter.class).stream().filter(l -> topic.equals(String.valueOf(l.getSourceTopic()))).toList();
    }

    private <T extends org.apache.avro.specific.SpecificRecord> List<T> readAll(String topic, Class<T> type) {
        return Committed.readAll(kafka.bootstrapServers(), topic, new AvroDeserializer<>(registry, type));
    }

    /** Results read so far (committed ones only), in arrival order. */
    List<JobResult> poll() {
        List<JobResult> out = new ArrayList<>();
        for (ConsumerRecord<String, JobResult> r : results.poll(Duration.ofMillis(200))) {
            if (r.value().getFunction().startsWith(pool)) {
                out.add(r.value());
            }
        }
        return out;
    }

    /** Results seen by {@link #awaitResult}, by job id, whichever job each poll was waiting for. */
    private final Map<String, JobResult> seen = new java.util.concurrent.ConcurrentHashMap<>();

    /** The committed result of {@code jobId}, waiting for it up to {@code timeout}. */
    JobResult awaitResult(String jobId, Duration timeout) {
        org.awaitility.Awaitility.await().atMost(timeout).pollDelay(Duration.ZERO).pollInterval(Duration.ZERO).until(() -> {
            if (!seen.containsKey(jobId)) {
                poll().forEach(r -> seen.put(r.getJobId(), r));
            }
            return seen.containsKey(jobId);
        });
        return seen.get(jobId);
    }

    /** A worker in a child JVM (so a test can SIGTERM or SIGKILL it), logging to a temp file named after it. */
    Process startWorkerProcess(String id, int slots) throws java.io.IOException {
        return startWorkerProcess(id, slots, Map.of());
    }

    /** As {@link #startWorkerProcess(String, int)}, with extra settings. */
    Process startWorkerProcess(String id, int slots, Map<String, Object> extra) throws java.io.IOException {
        return startWorkerProcess(id, slots, extra, Map.of());
    }

    /** As {@link #startWorkerProcess(String, int)}, with extra settings and environment variables. */
    Process startWorkerProcess(String id, int slots, Map<String, Object> extra, Map<String, String> env) throws java.io.IOException {
        List<String> command = new ArrayList<>(List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName()));
        Map<String, Object> settings = new java.util.HashMap<>(workerSettings(id, slots));
        settings.putAll(extra);
        settings.forEach((k, v) -> command.add(k + "=" + v));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(env);
        Process process = builder.redirectErrorStream(true)
                .redirectOutput(new java.io.File(System.getProperty("java.io.tmpdir"), id + ".log")).start();
        processes.put(id, process);
        return process;
    }

    /** Worker processes started, by id: {@link #close} kills those still alive and removes what killed ones left. */
    private final Map<String, Process> processes = new java.util.LinkedHashMap<>();

    @Override
    public void close() {
        processes.values().forEach(Process::destroyForcibly);
        workers.forEach(Worker::close);
        producer.close();
        results.close();
        // A SIGKILLed worker could not remove its containers; this is what its next start with the same id would do.
        processes.keySet().forEach(id -> docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, id)).exec()
                .forEach(c -> docker.removeContainerCmd(c.getId()).withForce(true).exec()));
    }
}
