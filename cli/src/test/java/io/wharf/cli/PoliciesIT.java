package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.wharf.client.WharfClient;
import io.wharf.embedded.LocalImages;
import io.wharf.records.AttemptSummary;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.RetryPolicy;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.embedded.Committed;
import io.wharf.topics.Topics;

/** Dispatcher policies with real containers: retries, concurrency caps, fan-out, chaining and schedules, as users drive them. */
class PoliciesIT {
    private static DevCluster cluster;
    private static DevClusterFixture fixture;
    private static HttpSchemaRegistryClient registry;

    @BeforeAll
    static void start() {
        fixture = DevClusterFixture.start();
        cluster = fixture.cluster;
        registry = new HttpSchemaRegistryClient(cluster.endpoints().registry());
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static FunctionSpec.Builder function(String name, String script) {
        return FunctionSpec.newBuilder().setName(name).setImage(LocalImages.BUSYBOX).setMemoryMb(32).setCommand(List.of("sh", "-c", script));
    }

    private static void deploy(FunctionSpec.Builder spec) {
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(spec.build());
        }
    }

    /** Committed records of {@code topic} whose key matches, read from the beginning until {@code count} arrived. */
    private static <T extends org.apache.avro.specific.SpecificRecord> List<T> read(String topic, Class<T> type, Predicate<String> key, int count) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.endpoints().bootstrap());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "policies-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        AvroDeserializer<T> deserializer = new AvroDeserializer<>(registry, type);
        List<T> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ZERO).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (r.key() != null && key.test(r.key())) {
                        found.add(deserializer.deserialize(topic, r.value()));
                    }
                });
                return found.size() >= count;
            });
        }
        return found;
    }

    private static JobResult invoke(String function, String payload) throws Exception {
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            return client.invoke(client.event(function, payload.getBytes(StandardCharsets.UTF_8), "text/plain"), Duration.ofSeconds(90));
        }
    }

    @Test
    void failedJobsAreRetriedAfterTheirBackoffThenDeadLetteredWithTheirHistory() throws Exception {
        String name = unique("flaky");
        deploy(function(name, "echo \"attempt $WHARF_ATTEMPT\" >&2; exit 3").setRetry(RetryPolicy.newBuilder()
                .setMaxAttempts(3).setInitialBackoffMillis(1000).setMultiplier(2.0).setJitter(0.0).build()));
        JobResult result = invoke(name, "x");

        assertThat(result.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(result.getAttempt()).isEqualTo(3);
        assertThat(result.getError()).contains("Gave up after 3 attempts");
        List<AttemptSummary> history = result.getHistory();
        assertThat(history).extracting(AttemptSummary::getAttempt).containsExactly(1, 2, 3);
        assertThat(history).allSatisfy(a -> assertThat(a.getExitCode()).isEqualTo(3));
        // Each retry starts its backoff after the previous attempt ended (tolerance: dispatch, commit and container start).
        long firstGap = history.get(1).getStartedAt() - history.get(0).getFinishedAt();
        long secondGap = history.get(2).getStartedAt() - history.get(1).getFinishedAt();
        System.out.printf("retry gaps: %d ms (backoff 1000), %d ms (backoff 2000)%n", firstGap, secondGap);
        assertThat(firstGap).isBetween(1000L, 2500L);
        assertThat(secondGap).isBetween(2000L, 3500L);
        DeadLetter letter = read(Topics.DLQ, DeadLetter.class, result.getJobId()::equals, 1).getFirst();
        assertThat(letter.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(letter.getReason()).contains("Gave up after 3 attempts");
    }

    @Test
    void anEventSentTwiceIsOneJobAndAKeyAlreadySeenIsAnsweredByItsFirstJobOrRefusedForAnotherRequest() throws Exception {
        String name = unique("once");
        // One at a time, in dispatch order: had the re-sent event become a job, its result would come before the last one's.
        deploy(function(name, "cat").setMaxConcurrency(1));
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            Event first = client.event(name, "first".getBytes(StandardCharsets.UTF_8), "text/plain");
            CompletableFuture<JobResult> once = client.invokeAsync(first);
            try (KafkaProducer<String, Event> again = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    cluster.endpoints().bootstrap()), new StringSerializer(), new AvroSerializer<>(registry))) {
                again.send(new ProducerRecord<>(Topics.EVENTS, name, first)).get();
            }
            Event keyed = client.event(name, "keyed".getBytes(StandardCharsets.UTF_8), "text/plain");
            keyed.setIdempotencyKey(unique("order"));
            Event retry = client.event(name, "keyed".getBytes(StandardCharsets.UTF_8), "text/plain");
            retry.setIdempotencyKey(keyed.getIdempotencyKey());
            Event otherRequest = client.event(name, "again".getBytes(StandardCharsets.UTF_8), "text/plain");
            otherRequest.setIdempotencyKey(keyed.getIdempotencyKey());
            assertThat(client.invoke(keyed, Duration.ofSeconds(90)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            JobResult answered = client.invoke(retry, Duration.ofSeconds(90));
            assertThat(answered.getJobId()).as("a retry is answered by the key's first job").isEqualTo(keyed.getId());
            assertThat(StandardCharsets.UTF_8.decode(answered.getBody().duplicate()).toString()).isEqualTo("keyed");
            JobResult refused = client.invoke(otherRequest, Duration.ofSeconds(90));
            assertThat(refused.getStatus()).isEqualTo(JobStatus.REJECTED);
            assertThat(refused.getError()).contains("job " + keyed.getId()).contains("another request");

            assertThat(once.get(90, TimeUnit.SECONDS).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(Committed.readAll(cluster.endpoints().bootstrap(), Topics.RESULTS, new AvroDeserializer<>(registry, JobResult.class))
                    .stream().filter(r -> r.getJobId().equals(first.getId()))).as("results of the event sent twice").hasSize(1);
        }
    }

    @Test
    void aConcurrencyCapHoldsJobsBackUntilRunningOnesFinish() throws Exception {
        String name = unique("capped");
        deploy(function(name, "sleep 1; echo done").setMaxConcurrency(2));
        List<Event> events = new ArrayList<>();
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            for (int i = 0; i < 6; i++) {
                events.add(client.event(name, new byte[0], "text/plain"));
            }
            assertThat(client.invokeAll(events, Duration.ofSeconds(90))).isEqualTo(6);
        }
        List<String> ids = events.stream().map(Event::getId).toList();
        List<JobResult> results = read(Topics.RESULTS, JobResult.class, ids::contains, 6);
        assertThat(results).allSatisfy(r -> assertThat(r.getStatus()).isEqualTo(JobStatus.SUCCEEDED));
        int most = 0;
        for (JobResult r : results) {
            long t = r.getTimings().getStartedAt();
            int running = (int) results.stream().filter(o -> o.getTimings().getStartedAt() <= t && o.getTimings().getExitedAt() > t).count();
            most = Math.max(most, running);
        }
        assertThat(most).as("containers running at once").isEqualTo(2);
    }

    @Test
    void aFanOutRunsOneContainerPerElementAndChainedFunctionsGetTheResult() throws Exception {
        String shout = unique("shout");
        String exclaim = unique("exclaim");
        deploy(function(exclaim, "cat; echo '!'"));
        deploy(function(shout, "tr a-z A-Z").setOnSuccess(List.of(exclaim)));
        String batchId = UUID.randomUUID().toString();
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            Event batch = client.event(shout, "[\"ada\", \"grace\", \"linus\"]".getBytes(StandardCharsets.UTF_8), "application/json");
            batch.setId(batchId);
            batch.setFanOut(true);
            JobResult aggregate = client.invoke(batch, Duration.ofSeconds(90));
            assertThat(aggregate.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(aggregate.getBody()).toString())
                    .contains("\"jobId\":\"" + batchId + "#0\"").contains("\"jobId\":\"" + batchId + "#2\"");
        }
        List<JobResult> chained = read(Topics.RESULTS, JobResult.class, k -> k.startsWith(batchId + "#") && k.endsWith("->" + exclaim), 3);
        assertThat(chained).extracting(r -> StandardCharsets.UTF_8.decode(r.getBody()).toString())
                .containsExactlyInAnyOrder("ADA!\n", "GRACE!\n", "LINUS!\n");
    }

    @Test
    void aFunctionDeployedWithOrderingKeyThroughTheCliRunsOneKeysJobsOneAfterAnother() throws Exception {
        String name = unique("ordered");
        List<String> deploy = List.of("deploy", name, "--image", LocalImages.BUSYBOX, "--memory", "32m", "--ordering", "key",
                "--cmd", "sh", "-c", "sleep 0.3; cat", "--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry());
        assertThat(Wharf.commandLine().execute(deploy.toArray(String[]::new))).isZero();
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            List<Event> events = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Event event = client.event(name, ("job " + i).getBytes(StandardCharsets.UTF_8), "text/plain");
                event.setKey("account-7");
                events.add(event);
            }
            // Sent at once; the worker has 4 slots, so only the ordering key keeps them from running side by side.
            List<java.util.concurrent.CompletableFuture<JobResult>> results = events.stream().map(client::invokeAsync).toList();
            List<JobResult> done = new ArrayList<>();
            for (var result : results) {
                done.add(result.orTimeout(90, java.util.concurrent.TimeUnit.SECONDS).get());
            }
            assertThat(done).extracting(JobResult::getStatus).containsOnly(JobStatus.SUCCEEDED);
            assertThat(done).extracting(r -> StandardCharsets.UTF_8.decode(r.getBody()).toString())
                    .containsExactly("job 0", "job 1", "job 2", "job 3");
            for (int i = 1; i < done.size(); i++) {
                assertThat(done.get(i).getTimings().getStartedAt()).as("job %d starts after job %d exited", i, i - 1)
                        .isGreaterThanOrEqualTo(done.get(i - 1).getTimings().getExitedAt());
            }
        }
    }

    @Test
    void aScheduleCreatedWithTheCliRunsItsFunctionUntilMaxRuns() {
        String name = unique("ticker");
        deploy(function(name, "echo tick"));
        String id = unique("every-second");
        List<String> connection = List.of("--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry());
        List<String> create = new ArrayList<>(List.of("schedule", "create", id, name, "--every", "1s", "--max-runs", "3"));
        create.addAll(connection);
        assertThat(Wharf.commandLine().execute(create.toArray(String[]::new))).isZero();

        List<JobResult> runs = read(Topics.RESULTS, JobResult.class, k -> k.startsWith(id + "@"), 3);
        assertThat(runs).extracting(JobResult::getStatus).containsOnly(JobStatus.SUCCEEDED);
        assertThat(runs).extracting(JobResult::getJobId).doesNotHaveDuplicates();
        List<String> delete = new ArrayList<>(List.of("schedule", "delete", id));
        delete.addAll(connection);
        assertThat(Wharf.commandLine().execute(delete.toArray(String[]::new))).isZero();
    }

    @Test
    void aTriggerCreatedWithTheCliRunsItsFunctionForEachRecordOfTheTopic() throws Exception {
        String name = unique("greeter");
        deploy(function(name, "echo \"hello $(cat) from $WHARF_EVENT_TOPIC\""));
        String topic = unique("people");
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers",
                cluster.endpoints().bootstrap()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 2, (short) 1))).all().get();
        }
        List<String> connection = List.of("--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry());
        java.io.StringWriter err = new java.io.StringWriter();
        List<String> bad = new ArrayList<>(List.of("trigger", "create", name, "--topic", topic, "--function", name, "--format", "xml"));
        bad.addAll(connection);
        assertThat(Wharf.commandLine().setErr(new java.io.PrintWriter(err)).execute(bad.toArray(String[]::new))).isEqualTo(2);
        assertThat(err.toString()).contains("--format 'xml' is not one of: raw, json, avro");
        List<String> create = new ArrayList<>(List.of("trigger", "create", name, "--topic", topic, "--function", name));
        create.addAll(connection);
        assertThat(Wharf.commandLine().execute(create.toArray(String[]::new))).isZero();

        try (org.apache.kafka.clients.producer.KafkaProducer<String, String> producer = new org.apache.kafka.clients.producer.KafkaProducer<>(
                Map.of("bootstrap.servers", cluster.endpoints().bootstrap()), new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "ada", "Ada"));
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "alan", "Alan"));
        }
        List<JobResult> results = read(Topics.RESULTS, JobResult.class, k -> k.startsWith(name + "-"), 2);
        assertThat(results).extracting(r -> StandardCharsets.UTF_8.decode(r.getBody()).toString())
                .containsExactlyInAnyOrder("hello Ada from " + topic + "\n", "hello Alan from " + topic + "\n");
        List<String> delete = new ArrayList<>(List.of("trigger", "delete", name));
        delete.addAll(connection);
        assertThat(Wharf.commandLine().execute(delete.toArray(String[]::new))).isZero();
    }

    @Test
    void aDeployAskingForMoreThanItsPoolAllowsIsRefusedUntilAnOperatorAllowsIt() {
        String name = unique("hostnet");
        String pool = unique("pool");
        String[] connection = {"--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry()};
        List<String> deploy = new ArrayList<>(List.of("deploy", name, "--image", LocalImages.BUSYBOX, "--memory", "32m", "--network", "host",
                "--pool", pool));
        deploy.addAll(List.of(connection));
        java.io.StringWriter err = new java.io.StringWriter();
        assertThat(Wharf.commandLine().setErr(new java.io.PrintWriter(err)).execute(deploy.toArray(String[]::new))).isNotZero();
        assertThat(err.toString()).contains("pool " + pool + " does not allow host network", "wharf pool set " + pool + " --allow-host-network");

        List<String> allow = new ArrayList<>(List.of("pool", "set", pool, "--allow-host-network", "--max-memory", "64m"));
        allow.addAll(List.of(connection));
        assertThat(Wharf.commandLine().execute(allow.toArray(String[]::new))).isZero();
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        System.setErr(new java.io.PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            assertThat(Wharf.commandLine().execute(deploy.toArray(String[]::new))).isZero();
        } finally {
            System.setErr(stderr);
        }
        assertThat(warnings.toString(StandardCharsets.UTF_8)).as("no worker serves the new pool").contains("no worker serves pool " + pool);
    }

    @Test
    void invokeReadsThePayloadFromStandardInputAndAsyncPrintsTheJobIdAtOnce() throws Exception {
        String name = unique("stdin");
        deploy(function(name, "tr a-z A-Z"));
        String[] connection = {"--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry()};
        java.io.InputStream stdin = System.in;
        java.io.PrintStream stdout = System.out;
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setIn(new java.io.ByteArrayInputStream("from a pipe".getBytes(StandardCharsets.UTF_8)));
            System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
            List<String> sync = new ArrayList<>(List.of("invoke", name, "--file", "-"));
            sync.addAll(List.of(connection));
            assertThat(Wharf.commandLine().execute(sync.toArray(String[]::new))).isZero();
            assertThat(withoutLogLines(out)).as("stdout is the job's output alone").endsWith("FROM A PIPE");
            assertThat(err.toString(StandardCharsets.UTF_8)).as("the report line").containsPattern(
                    "wharf: job \\S+ SUCCEEDED, ran \\d+ ms, CPU \\d+\\.\\d\\d s, peak memory [0-9.]+ [KM]iB, read .+, written .+");

            out.reset();
            List<String> async = new ArrayList<>(List.of("invoke", name, "--async", "--data", "later"));
            async.addAll(List.of(connection));
            assertThat(Wharf.commandLine().execute(async.toArray(String[]::new))).isZero();
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
            System.setErr(stderr);
        }
        // This JVM's roles log to the same stdout: the job id is the line that is one.
        List<String> ids = withoutLogLines(out).strip().lines().filter(l -> l.matches("[0-9a-f-]{36}")).toList();
        assertThat(ids).as("the async invoke printed its job id").hasSize(1);
        String jobId = ids.get(0);
        JobResult result = read(Topics.RESULTS, JobResult.class, jobId::equals, 1).get(0);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("LATER");
    }

    @Test
    void anApiKeyIsShownOnceListedWithoutItsSecretAndRevoked() throws Exception {
        String[] connection = {"--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry()};
        String key = cliOut(connection, "apikey", "create", "--tenant", "acme", "--description", "policies-it");
        assertThat(key).matches("wharf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}");
        String id = key.split("_")[1];
        String list = cliOut(connection, "apikey", "list");
        assertThat(list).contains(id, "acme", "policies-it").doesNotContain(key.substring(("wharf_" + id + "_").length()));
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            assertThat(io.wharf.rules.ApiKeys.verify(key, client.apiKeys())).get().extracting(k -> k.getTenant()).isEqualTo("acme");
        }
        cliOut(connection, "apikey", "revoke", id);
        try (WharfClient client = new WharfClient(cluster.endpoints())) {
            assertThat(io.wharf.rules.ApiKeys.verify(key, client.apiKeys())).isEmpty();
        }
    }

    /** Runs a command and returns the last line it printed on stdout. */
    private static String cliOut(String[] connection, String... args) {
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(connection));
        try {
            System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
            assertThat(Wharf.commandLine().execute(all.toArray(String[]::new))).as(String.join(" ", args)).isZero();
        } finally {
            System.setOut(stdout);
        }
        String text = withoutLogLines(out).strip();
        return args[1].equals("list") ? text : text.lines().reduce((a, b) -> b).orElse("");
    }

    /** What a command printed, without the lines this JVM's roles logged to the same stdout meanwhile (pattern of logback-test.xml). */
    private static String withoutLogLines(java.io.ByteArrayOutputStream out) {
        return out.toString(StandardCharsets.UTF_8).replaceAll("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (TRACE|DEBUG|INFO |WARN |ERROR) \\[[^\\n]*\\R", "");
    }
}
