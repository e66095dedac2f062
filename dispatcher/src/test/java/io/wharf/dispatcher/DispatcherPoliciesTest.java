package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.wharf.dispatcher.internals.DispatcherMeters;

import io.wharf.records.Attempt;
import io.wharf.records.AttemptSummary;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;
import io.wharf.records.RateLimit;
import io.wharf.records.RetryPolicy;
import io.wharf.records.Schedule;
import io.wharf.records.TenantSpec;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.InMemorySchemaRegistryClient;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;

/** Every dispatcher policy against Streams' wall clock, moved by the test driver. */
class DispatcherPoliciesTest {
    private static final long T0 = 1_700_000_000_000L;

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private TopologyTestDriver driver;
    private TestInputTopic<String, FunctionSpec> functions;
    private TestInputTopic<String, Event> events;
    private TestInputTopic<String, Attempt> attempts;
    private TestInputTopic<String, Schedule> schedules;
    private TestOutputTopic<String, Job> jobs;
    private TestOutputTopic<String, JobResult> results;
    private TestOutputTopic<String, DeadLetter> dlq;
    private TestOutputTopic<String, Event> emitted;
    private TestOutputTopic<String, JobState> states;

    @BeforeEach
    void setUp() {
        start(new TopicLimits(Map.of(), Topics.MAX_RECORD_BYTES));
    }

    /** (Re)starts the driver on a dispatcher that reads these topic limits at its start. */
    private void start(TopicLimits limits) {
        if (driver != null) {
            driver.close();
        }
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dispatcher-policies-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(DispatcherTopology.build(registry, Duration.ofMillis(10), Map.of(), limits,
                DispatcherTopology.DEFAULT_DEDUPE_WINDOW, new DispatcherMeters(meters),
                io.opentelemetry.api.OpenTelemetry.noop().getTracer("test")), props,
                Instant.ofEpochMilli(T0));
        functions = driver.createInputTopic(Topics.FUNCTIONS, new StringSerializer(), new AvroSerializer<>(registry));
        events = driver.createInputTopic(Topics.EVENTS, new StringSerializer(), new AvroSerializer<>(registry));
        attempts = driver.createInputTopic(Topics.ATTEMPTS, new StringSerializer(), new AvroSerializer<>(registry));
        schedules = driver.createInputTopic(Topics.SCHEDULES, new StringSerializer(), new AvroSerializer<>(registry));
        jobs = driver.createOutputTopic(Topics.jobs("default"), new StringDeserializer(), new AvroDeserializer<>(registry, Job.class));
        results = driver.createOutputTopic(Topics.RESULTS, new StringDeserializer(), new AvroDeserializer<>(registry, JobResult.class));
        dlq = driver.createOutputTopic(Topics.DLQ, new StringDeserializer(), new AvroDeserializer<>(registry, DeadLetter.class));
        emitted = driver.createOutputTopic(Topics.EVENTS, new StringDeserializer(), new AvroDeserializer<>(registry, Event.class));
        states = driver.createOutputTopic(Topics.STATUS, new StringDeserializer(), new AvroDeserializer<>(registry, JobState.class));
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private static FunctionSpec.Builder function(String name) {
        return FunctionSpec.newBuilder().setName(name).setImage("wharf-local/busybox:1");
    }

    private static Event.Builder event(String id, String function) {
        return Event.newBuilder().setId(id).setFunction(function)
                .setPayload(ByteBuffer.wrap(id.getBytes(StandardCharsets.UTF_8))).setCreatedAt(Instant.ofEpochMilli(T0));
    }

    private void send(Event.Builder event) {
        Event e = event.build();
        events.pipeInput(e.getFunction(), e);
    }

    private void advance(long millis) {
        driver.advanceWallClockTime(Duration.ofMillis(millis));
    }

    private void seconds(int n) {
        for (int i = 0; i < n; i++) {
            advance(1000);
        }
    }

    private List<String> jobIds() {
        return jobs.readValuesToList().stream().map(Job::getJobId).toList();
    }

    private static JobResult outcome(Job job, JobStatus status, Integer exitCode, String body) {
        return JobResult.newBuilder().setJobId(job.getJobId()).setFunction(job.getFunction().getName()).setAttempt(job.getAttempt())
                .setStatus(status).setExitCode(exitCode).setWorkerId("w1").setParentId(job.getParentId())
                .setBody(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)))
                .setCompletedAt(Instant.ofEpochMilli(T0)).build();
    }

    /** What a worker reports: a final attempt, or one it leaves to the dispatcher (with the job, for a retry). */
    private void report(Job job, JobStatus status, Integer exitCode, boolean finished) {
        Attempt attempt = Attempt.newBuilder().setOutcome(outcome(job, status, exitCode, "out-" + job.getJobId()))
                .setFinished(finished).setJob(finished ? null : job).build();
        attempts.pipeInput(job.getFunction().getName(), attempt);
    }

    @Test
    void theMetersCountTheStatesAndDeadLettersWrittenAndTheJobsHeld() {
        functions.pipeInput("capped", function("capped").setMaxConcurrency(1).build());
        for (int i = 0; i < 3; i++) {
            send(event("m" + i, "capped"));
        }
        send(event("lost", "nowhere"));
        List<Job> running = jobs.readValuesToList();
        assertThat(running).hasSize(1);
        assertThat(meters.get(DispatcherMeters.PENDING).tag("function", "capped").gauge().value()).isEqualTo(2.0);
        assertThat(meters.get(DispatcherMeters.STATES).tags("function", "capped", "phase", "QUEUED").counter().count()).isEqualTo(1.0);
        assertThat(meters.get(DispatcherMeters.STATES).tags("function", "capped", "phase", "THROTTLED").counter().count()).isEqualTo(2.0);
        assertThat(meters.get(DispatcherMeters.ENDED).tags("function", "nowhere", "status", "REJECTED").counter().count()).isEqualTo(1.0);
        assertThat(meters.get(DispatcherMeters.DEAD_LETTERED).tags("function", "nowhere", "status", "REJECTED").counter().count()).isEqualTo(1.0);

        report(running.getFirst(), JobStatus.SUCCEEDED, 0, true);
        advance(20);
        assertThat(jobs.readValuesToList()).hasSize(1);
        assertThat(meters.get(DispatcherMeters.PENDING).tag("function", "capped").gauge().value()).isEqualTo(1.0);
        assertThat(meters.get(DispatcherMeters.STATES).tags("function", "capped", "phase", "QUEUED").counter().count()).isEqualTo(2.0);
        assertThat(meters.find(DispatcherMeters.ENDED).tags("function", "capped").counters()).as("a success is the worker's to count").isEmpty();
        assertThat(meters.get(DispatcherMeters.PUNCTUATION_LAG).tag("stage", "dispatch").timer().count()).isPositive();

        driver.close(); // the task closes: what it holds is no longer this instance's to count
        driver = null;
        assertThat(meters.get(DispatcherMeters.PENDING).tag("function", "capped").gauge().value()).isZero();
        start(new TopicLimits(Map.of(), Topics.MAX_RECORD_BYTES));
    }

    @Test
    void rateLimitReleasesHeldEventsAsTokensRefillAndNeverExceedsBurstPlusRate() {
        functions.pipeInput("limited", function("limited").setRateLimit(new RateLimit(10.0, 2)).build());
        for (int i = 0; i < 10; i++) {
            send(event("e" + i, "limited"));
        }
        assertThat(jobIds()).containsExactly("e0", "e1"); // the burst
        for (int i = 2; i < 10; i++) {
            advance(50);
            assertThat(jobs.isEmpty()).isTrue();
            advance(50);
            assertThat(jobIds()).containsExactly("e" + i); // one token per 100 ms
        }
        assertThat(results.isEmpty()).isTrue();
    }

    @Test
    void anIdleBucketRefillsOnlyUpToItsBurst() {
        functions.pipeInput("limited", function("limited").setRateLimit(new RateLimit(10.0, 3)).build());
        send(event("warm", "limited"));
        jobs.readValue();
        advance(60_000);
        for (int i = 0; i < 5; i++) {
            send(event("e" + i, "limited"));
        }
        assertThat(jobIds()).containsExactly("e0", "e1", "e2");
    }

    @Test
    void eventsBeyondTheBacklogAreThrottled() {
        functions.pipeInput("slow", function("slow").setRateLimit(new RateLimit(1.0, 1)).setMaxPending(2).build());
        for (int i = 0; i < 5; i++) {
            send(event("s" + i, "slow"));
        }
        assertThat(jobIds()).containsExactly("s0");
        List<JobResult> throttled = results.readValuesToList();
        assertThat(throttled).extracting(JobResult::getJobId).containsExactly("s3", "s4");
        assertThat(throttled).allSatisfy(r -> {
            assertThat(r.getStatus()).isEqualTo(JobStatus.THROTTLED);
            assertThat(r.getError()).contains("maxPending 2");
        });
        advance(1000);
        assertThat(jobIds()).containsExactly("s1");
        advance(1000);
        assertThat(jobIds()).containsExactly("s2");
    }

    @Test
    void concurrencyCapHoldsJobsUntilAttemptsReportTheirOutcome() {
        functions.pipeInput("capped", function("capped").setMaxConcurrency(2).build());
        for (int i = 0; i < 5; i++) {
            send(event("c" + i, "capped"));
        }
        List<Job> running = jobs.readValuesToList();
        assertThat(running).extracting(Job::getJobId).containsExactly("c0", "c1");
        advance(1000);
        assertThat(jobs.isEmpty()).isTrue();

        report(running.get(0), JobStatus.SUCCEEDED, 0, true);
        assertThat(jobIds()).containsExactly("c2");
        report(running.get(1), JobStatus.FAILED, 1, true);
        List<Job> next = jobs.readValuesToList();
        assertThat(next).extracting(Job::getJobId).containsExactly("c3");
        // A duplicate report of an attempt already counted frees nothing.
        report(running.get(1), JobStatus.FAILED, 1, true);
        assertThat(jobs.isEmpty()).isTrue();
        report(next.get(0), JobStatus.SUCCEEDED, 0, true);
        assertThat(jobIds()).containsExactly("c4");
    }

    @Test
    void aConcurrencySlotWhoseJobCanNoLongerReportIsFreedWhenItsLeaseEnds() {
        // Retention 60 s + timeout 10 s + a 120 s margin for a worker's drain: after that no worker can still report the job.
        start(new TopicLimits(Map.of(), Topics.MAX_RECORD_BYTES).withRetention(Topics.jobs("default"), 60_000));
        functions.pipeInput("leased", function("leased").setMaxConcurrency(1).setTimeoutMillis(10_000).build());
        send(event("lost", "leased"));
        send(event("held", "leased"));
        List<Job> lost = jobs.readValuesToList();
        assertThat(lost).extracting(Job::getJobId).containsExactly("lost");

        long lease = 60_000 + 10_000 + 120_000;
        advance(lease - 1_000);
        assertThat(jobs.isEmpty()).as("the lease still runs").isTrue();
        advance(2_000);
        assertThat(jobIds()).containsExactly("held");

        // The lost job's report, should it come after all, frees nothing a second time.
        send(event("third", "leased"));
        report(lost.getFirst(), JobStatus.SUCCEEDED, 0, true);
        advance(1_000);
        assertThat(jobs.isEmpty()).as("the held job still has the slot").isTrue();
    }

    @Test
    void aTenantsSlotWhoseJobCanNoLongerReportIsFreedWhenItsLeaseEnds() {
        start(new TopicLimits(Map.of(), Topics.MAX_RECORD_BYTES).withRetention(Topics.jobs("default"), 60_000));
        TestInputTopic<String, TenantSpec> tenants = driver.createInputTopic(Topics.TENANTS, new StringSerializer(), new AvroSerializer<>(registry));
        tenants.pipeInput("acme", TenantSpec.newBuilder().setName("acme").setMaxConcurrency(1).build());
        functions.pipeInput("t", function("t").setTenant("acme").setTimeoutMillis(10_000).build());
        send(event("lost", "t").setTenant("acme"));
        send(event("held", "t").setTenant("acme"));
        assertThat(jobIds()).containsExactly("lost");
        advance(60_000 + 10_000 + 120_000 - 1_000);
        assertThat(jobs.isEmpty()).isTrue();
        advance(2_000);
        assertThat(jobIds()).containsExactly("held");
    }

    @Test
    void anEventSentAgainWithinTheDedupeWindowBecomesNoSecondJob() {
        functions.pipeInput("once", function("once").build());
        send(event("e1", "once"));
        send(event("e1", "once")); // the same event again: a producer's or a client's retry
        ByteBuffer order = ByteBuffer.wrap("pay 42".getBytes(StandardCharsets.UTF_8));
        send(event("k1", "once").setIdempotencyKey("order-42").setPayload(order));
        send(event("k2", "once").setIdempotencyKey("order-42").setPayload(order.duplicate())); // another id, the same key and request
        send(event("k3", "once").setIdempotencyKey("order-42")); // the same key for another payload
        assertThat(jobIds()).containsExactly("e1", "k1");
        JobResult duplicate = results.readValue();
        assertThat(duplicate.getJobId()).isEqualTo("k2");
        assertThat(duplicate.getStatus()).isEqualTo(JobStatus.REJECTED);
        assertThat(duplicate.getDuplicateOf()).as("the job whose result answers it").isEqualTo("k1");
        assertThat(duplicate.getError()).contains("Duplicate of job k1").contains("order-42").contains("wharf.dispatcher.dedupe.window.ms");
        JobResult reused = results.readValue();
        assertThat(reused.getJobId()).isEqualTo("k3");
        assertThat(reused.getStatus()).isEqualTo(JobStatus.REJECTED);
        assertThat(reused.getDuplicateOf()).as("no answer of another request's").isNull();
        assertThat(reused.getError()).contains("'order-42'").contains("job k1").contains("another request").contains("new key");
        assertThat(results.isEmpty()).isTrue();
        assertThat(dlq.readValue().getId()).as("only the reused key is a bad event").isEqualTo("k3");
        assertThat(dlq.isEmpty()).isTrue();

        advance(DispatcherTopology.DEFAULT_DEDUPE_WINDOW.toMillis() + 1_000);
        send(event("e1", "once"));
        assertThat(jobIds()).as("past the window it is a new job").containsExactly("e1");
    }

    @Test
    void anEventItsSenderSendsOnceLeavesNoDedupeEntryButItsIdempotencyKeyIsStillKept() {
        functions.pipeInput("fresh", function("fresh").build());
        org.apache.kafka.common.header.internals.RecordHeaders once = new org.apache.kafka.common.header.internals.RecordHeaders();
        once.add(Topics.SENT_ONCE_HEADER, new byte[0]);
        for (Event e : List.of(event("g1", "fresh").build(), event("g2", "fresh").setIdempotencyKey("order-7").build(),
                event("g3", "fresh").setIdempotencyKey("order-7").setPayload(ByteBuffer.wrap("g2".getBytes(StandardCharsets.UTF_8))).build())) {
            events.pipeInput(new TestRecord<>(e.getFunction(), e, once));
        }
        assertThat(jobIds()).containsExactly("g1", "g2");
        assertThat(results.readValue().getError()).contains("Duplicate of job g2");
        List<String> remembered = new java.util.ArrayList<>();
        try (var all = driver.<String, byte[]>getKeyValueStore(io.wharf.dispatcher.internals.Names.DEDUPE_STORE).all()) {
            all.forEachRemaining(entry -> remembered.add(entry.key));
        }
        assertThat(remembered).as("only the idempotency key").containsExactly("fresh\u0000k:order-7");
    }

    @Test
    void heldJobsAreReleasedStrictlyByPriorityThenArrival() {
        functions.pipeInput("prio", function("prio").setRateLimit(new RateLimit(1.0, 1)).build());
        send(event("first", "prio"));
        send(event("low-1", "prio").setPriority(2));
        send(event("normal", "prio"));
        send(event("high", "prio").setPriority(0));
        send(event("low-2", "prio").setPriority(2));
        assertThat(jobIds()).containsExactly("first");
        for (int i = 0; i < 4; i++) {
            advance(1000);
        }
        assertThat(jobIds()).containsExactly("high", "normal", "low-1", "low-2");
    }

    /** The phases written for each job, in order, from wharf.status. */
    private Map<String, List<String>> phases() {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        for (JobState state : states.readValuesToList()) {
            out.computeIfAbsent(state.getJobId(), id -> new java.util.ArrayList<>())
                    .add(state.getPhase() + "#" + state.getAttempt() + (state.getDone() ? " done" : ""));
        }
        return out;
    }

    @Test
    void everyStepOfAJobIsWrittenToTheStatusTopic() {
        functions.pipeInput("limited", function("limited").setRateLimit(new RateLimit(1.0, 1)).setMaxPending(1).build());
        functions.pipeInput("retried", function("retried")
                .setRetry(RetryPolicy.newBuilder().setMaxAttempts(2).setInitialBackoffMillis(1000).setJitter(0).build()).build());
        send(event("a", "limited"));
        send(event("b", "limited"));
        send(event("c", "limited"));
        send(event("later", "retried").setRunAt(Instant.ofEpochMilli(T0 + 60_000)));
        send(event("r", "retried").setCallback("http://127.0.0.1:9/cb"));
        Job r = jobs.readValuesToList().stream().filter(j -> j.getJobId().equals("r")).findFirst().orElseThrow();
        report(r, JobStatus.FAILED, 1, false);
        seconds(2);
        Job retried = jobs.readValuesToList().stream().filter(j -> j.getJobId().equals("r")).findFirst().orElseThrow();
        report(retried, JobStatus.FAILED, 1, false);
        // Final results a worker writes reach wharf.status from the worker; the dispatcher writes those it decides.
        assertThat(phases()).containsEntry("a", List.of("QUEUED#1"))
                .containsEntry("b", List.of("THROTTLED#1", "QUEUED#1"))
                .containsEntry("c", List.of("THROTTLED#1 done"))
                .containsEntry("later", List.of("DELAYED#1"))
                .containsEntry("r", List.of("QUEUED#1", "RETRYING#2", "QUEUED#2", "FAILED#2 done"));
        assertThat(retried.getCallback()).as("the event's callback travels with the job").isEqualTo("http://127.0.0.1:9/cb");
    }

    @Test
    void retriesFollowTheBackoffThenGiveUpWithTheHistoryInTheDeadLetterTopic() {
        RetryPolicy retry = RetryPolicy.newBuilder().setMaxAttempts(3).setInitialBackoffMillis(1000).setMultiplier(2.0)
                .setMaxBackoffMillis(60_000).setJitter(0.0).build();
        functions.pipeInput("flaky", function("flaky").setRetry(retry).build());
        send(event("r1", "flaky"));
        Job first = jobs.readValue();
        report(first, JobStatus.FAILED, 3, false);
        advance(990);
        assertThat(jobs.isEmpty()).isTrue();
        advance(20);
        Job second = jobs.readValue();
        assertThat(second.getAttempt()).isEqualTo(2);
        assertThat(second.getHistory()).extracting(AttemptSummary::getAttempt).containsExactly(1);
        report(second, JobStatus.TIMED_OUT, null, false);
        advance(1990);
        assertThat(jobs.isEmpty()).isTrue();
        advance(20);
        Job third = jobs.readValue();
        assertThat(third.getAttempt()).isEqualTo(3);
        report(third, JobStatus.FAILED, 3, false);

        JobResult last = results.readValue();
        assertThat(last.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(last.getError()).contains("Gave up after 3 attempts");
        assertThat(last.getHistory()).extracting(AttemptSummary::getStatus)
                .containsExactly(JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.FAILED);
        assertThat(results.isEmpty()).isTrue();
        DeadLetter letter = dlq.readValue();
        assertThat(letter.getId()).isEqualTo("r1");
        assertThat(letter.getReason()).contains("Gave up after 3 attempts");
    }

    @Test
    void onlyChosenExitCodesAreRetriedAndASuccessfulRetryEndsIt() {
        RetryPolicy retry = RetryPolicy.newBuilder().setMaxAttempts(5).setInitialBackoffMillis(100).setJitter(0.0)
                .setRetryOnExitCodes(List.of(75)).build();
        functions.pipeInput("picky", function("picky").setRetry(retry).build());
        send(event("p1", "picky"));
        report(jobs.readValue(), JobStatus.FAILED, 2, false);
        JobResult notRetried = results.readValue();
        assertThat(notRetried.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(notRetried.getExitCode()).isEqualTo(2);
        assertThat(dlq.isEmpty()).isTrue();

        send(event("p2", "picky"));
        report(jobs.readValue(), JobStatus.FAILED, 75, false);
        advance(200);
        Job retried = jobs.readValue();
        assertThat(retried.getAttempt()).isEqualTo(2);
        report(retried, JobStatus.SUCCEEDED, 0, false);
        JobResult done = results.readValue();
        assertThat(done.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.getHistory()).hasSize(2);
    }

    @Test
    void aTenantRateLimitHoldsAcrossAllItsFunctions() {
        TestInputTopic<String, TenantSpec> tenants = driver.createInputTopic(Topics.TENANTS, new StringSerializer(), new AvroSerializer<>(registry));
        tenants.pipeInput("acme", TenantSpec.newBuilder().setName("acme").setRateLimit(new RateLimit(2.0, 2)).build());
        functions.pipeInput("a", function("a").setTenant("acme").build());
        functions.pipeInput("b", function("b").setTenant("acme").build());
        functions.pipeInput("free", function("free").build());
        for (int i = 0; i < 3; i++) {
            send(event("a" + i, "a").setTenant("acme"));
            send(event("b" + i, "b").setTenant("acme"));
        }
        send(event("other", "free"));
        assertThat(jobIds()).containsExactly("a0", "b0", "other"); // the tenant's burst of 2, shared; another tenant unaffected
        advance(500);
        assertThat(jobIds()).containsExactly("a1");
        advance(500);
        assertThat(jobIds()).containsExactly("b1");
        advance(1000);
        assertThat(jobIds()).containsExactly("a2", "b2");
    }

    @Test
    void aTenantConcurrencyCapIsFreedByAttemptsAndItsRefusalsCompleteTheirFunctionsWork() {
        TestInputTopic<String, TenantSpec> tenants = driver.createInputTopic(Topics.TENANTS, new StringSerializer(), new AvroSerializer<>(registry));
        tenants.pipeInput("acme", TenantSpec.newBuilder().setName("acme").setMaxConcurrency(1).setMaxPending(1).build());
        functions.pipeInput("a", function("a").setTenant("acme").setMaxConcurrency(5).build());
        functions.pipeInput("b", function("b").setTenant("acme").build());
        send(event("a0", "a").setTenant("acme"));
        send(event("b0", "b").setTenant("acme"));
        send(event("b1", "b").setTenant("acme"));
        List<Job> running = jobs.readValuesToList();
        assertThat(running).extracting(Job::getJobId).containsExactly("a0");
        JobResult throttled = results.readValue();
        assertThat(throttled.getJobId()).isEqualTo("b1");
        assertThat(throttled.getStatus()).isEqualTo(JobStatus.THROTTLED);
        assertThat(throttled.getError()).contains("Tenant 'acme'");
        report(running.get(0), JobStatus.SUCCEEDED, 0, true);
        assertThat(jobIds()).containsExactly("b0");
    }

    @Test
    void delayedEventsRunAtTheirTime() {
        functions.pipeInput("later", function("later").build());
        send(event("d1", "later").setRunAt(Instant.ofEpochMilli(T0 + 5000)));
        send(event("now", "later"));
        assertThat(jobIds()).containsExactly("now");
        advance(4990);
        assertThat(jobs.isEmpty()).isTrue();
        advance(20);
        assertThat(jobIds()).containsExactly("d1");
    }

    @Test
    void delayedEventsCountAgainstTheBacklogSoTheyCannotPileUpWithoutBound() {
        functions.pipeInput("later", function("later").setMaxPending(3).build());
        for (int i = 0; i < 5; i++) {
            send(event("d" + i, "later").setRunAt(Instant.ofEpochMilli(T0 + 5000)));
        }
        List<JobResult> throttled = results.readValuesToList();
        assertThat(throttled).extracting(JobResult::getJobId).containsExactly("d3", "d4");
        assertThat(throttled.getFirst().getError()).contains("3 delayed").contains("maxPending 3");
        advance(5010);
        assertThat(jobIds()).containsExactly("d0", "d1", "d2");
        send(event("d5", "later").setRunAt(Instant.ofEpochMilli(T0 + 9000)));
        assertThat(results.isEmpty()).as("their time came: room again").isTrue();
    }

    @Test
    void heldJobsOlderThanTheMaximumAgeExpire() {
        functions.pipeInput("fresh", function("fresh").setMaxConcurrency(1).setMaxJobAgeMillis(1000L).build());
        send(event("x1", "fresh"));
        send(event("x2", "fresh"));
        Job running = jobs.readValue();
        advance(1100);
        JobResult expired = results.readValue();
        assertThat(expired.getJobId()).isEqualTo("x2");
        assertThat(expired.getStatus()).isEqualTo(JobStatus.EXPIRED);
        assertThat(expired.getError()).contains("maxJobAgeMillis");
        assertThat(dlq.readValue().getStatus()).isEqualTo(JobStatus.EXPIRED);
        report(running, JobStatus.SUCCEEDED, 0, true);
        assertThat(jobs.isEmpty()).isTrue();
        // An event already too old when it arrives expires at once.
        send(event("x3", "fresh").setCreatedAt(Instant.ofEpochMilli(T0 - 10_000)));
        assertThat(results.readValue().getStatus()).isEqualTo(JobStatus.EXPIRED);
    }

    @Test
    void schedulesFireOncePerDueTimeUntilMaxRunsAndStopWhenPausedOrDeleted() {
        Schedule every = Schedule.newBuilder().setId("tick").setFunction("f").setEveryMillis(2000L).setMaxRuns(3L)
                .setCreatedAt(Instant.ofEpochMilli(T0)).setPayload(ByteBuffer.wrap("hi".getBytes(StandardCharsets.UTF_8))).build();
        schedules.pipeInput("tick", every);
        for (int i = 0; i < 10; i++) {
            advance(1000);
        }
        List<TestRecord<String, Event>> fired = emitted.readRecordsToList();
        assertThat(fired).extracting(r -> r.value().getId()).containsExactly("tick@" + T0, "tick@" + (T0 + 2000), "tick@" + (T0 + 4000));
        assertThat(fired).allSatisfy(r -> {
            assertThat(r.key()).isEqualTo("f");
            assertThat(r.value().getSource()).isEqualTo(EventSource.SCHEDULE);
        });

        Schedule cron = Schedule.newBuilder().setId("cron").setFunction("f").setCron("*/5 * * * * *").setTimeZone("Europe/Paris")
                .setCreatedAt(Instant.ofEpochMilli(T0)).build();
        advance(500); // half-way between two due times
        schedules.pipeInput("cron", cron);
        seconds(10);
        assertThat(emitted.readValuesToList()).hasSize(2).allSatisfy(e -> {
            assertThat(e.getId()).startsWith("cron@");
            assertThat(Long.parseLong(e.getId().substring(5)) % 5000).isZero();
        });
        schedules.pipeInput("cron", Schedule.newBuilder(cron).setPaused(true).build());
        seconds(20);
        assertThat(emitted.isEmpty()).isTrue();
        schedules.pipeInput("cron", Schedule.newBuilder(cron).setPaused(false).build());
        seconds(5);
        assertThat(emitted.readValuesToList()).hasSize(1);
        schedules.pipeInput("cron", (Schedule) null);
        seconds(20);
        assertThat(emitted.isEmpty()).isTrue();
    }

    @Test
    void dueTimesMissedWhileNothingRanCoalesceIntoOneFiring() {
        schedules.pipeInput("often", Schedule.newBuilder().setId("often").setFunction("f").setEveryMillis(1000L)
                .setCreatedAt(Instant.ofEpochMilli(T0)).build());
        advance(30_000); // one punctuation after 30 s, as after an outage
        assertThat(emitted.readValuesToList()).hasSize(1);
        seconds(3);
        assertThat(emitted.readValuesToList()).hasSize(3);
    }

    @Test
    void invalidSchedulesGoToTheDeadLetterTopicNamingTheField() {
        schedules.pipeInput("bad", Schedule.newBuilder().setId("bad").setFunction("f").setCron("61 * * * *")
                .setCreatedAt(Instant.ofEpochMilli(T0)).build());
        schedules.pipeInput("tz", Schedule.newBuilder().setId("tz").setFunction("f").setCron("* * * * *").setTimeZone("Mars/Olympus")
                .setCreatedAt(Instant.ofEpochMilli(T0)).build());
        List<DeadLetter> letters = dlq.readValuesToList();
        assertThat(letters.get(0).getReason()).contains("cron '61 * * * *'").contains("invalid");
        assertThat(letters.get(1).getReason()).contains("time zone 'Mars/Olympus'");
    }

    @Test
    void fanOutRunsOneJobPerElementAndWritesOneAggregateResult() {
        functions.pipeInput("each", function("each").build());
        send(event("batch", "each").setFanOut(true).setContentType("application/json")
                .setPayload(ByteBuffer.wrap("[\"a\", \"b\", {\"x\": 1}]".getBytes(StandardCharsets.UTF_8))));
        List<Job> children = jobs.readValuesToList();
        assertThat(children).extracting(Job::getJobId).containsExactly("batch#0", "batch#1", "batch#2");
        assertThat(children).extracting(j -> StandardCharsets.UTF_8.decode(j.getPayload()).toString()).containsExactly("a", "b", "{\"x\":1}");
        report(children.get(0), JobStatus.SUCCEEDED, 0, true);
        report(children.get(2), JobStatus.FAILED, 1, true);
        assertThat(results.isEmpty()).isTrue();
        report(children.get(1), JobStatus.SUCCEEDED, 0, true);
        JobResult aggregate = results.readValue();
        assertThat(aggregate.getJobId()).isEqualTo("batch");
        assertThat(aggregate.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(aggregate.getError()).isEqualTo("1 of 3 fan-out jobs did not succeed");
        assertThat(StandardCharsets.UTF_8.decode(aggregate.getBody()).toString())
                .isEqualTo("[{\"jobId\":\"batch#0\",\"status\":\"SUCCEEDED\"},{\"jobId\":\"batch#1\",\"status\":\"SUCCEEDED\"},"
                        + "{\"jobId\":\"batch#2\",\"status\":\"FAILED\"}]");
    }

    @Test
    void chainedFunctionsReceiveTheResult() {
        functions.pipeInput("first", function("first").setOnSuccess(List.of("second")).setOnFailure(List.of("alert")).build());
        send(event("j1", "first"));
        report(jobs.readValue(), JobStatus.SUCCEEDED, 0, true);
        TestRecord<String, Event> next = emitted.readRecord();
        assertThat(next.key()).isEqualTo("second");
        assertThat(next.value().getId()).isEqualTo("j1->second");
        assertThat(StandardCharsets.UTF_8.decode(next.value().getPayload()).toString()).isEqualTo("out-j1");
        assertThat(next.value().getHeaders()).containsEntry("wharf-parent-job", "j1").containsEntry("wharf-chain-depth", "1");

        send(event("j2", "first"));
        report(jobs.readValue(), JobStatus.FAILED, 4, true);
        Event alert = emitted.readValue();
        assertThat(alert.getFunction()).isEqualTo("alert");
        assertThat(StandardCharsets.UTF_8.decode(alert.getPayload()).toString()).contains("\"status\":\"FAILED\"").contains("\"exitCode\":4");
    }

    @Test
    void validationNamesWhatIsWrong() {
        functions.pipeInput("json", function("json").setTenant("acme").setContentTypes(List.of("application/json")).build());
        send(event("v1", "json"));
        send(event("v2", "json").setTenant("acme").setContentType("text/plain"));
        send(event("v3", "json").setTenant("acme").setContentType("application/json")
                .setPayload(ByteBuffer.wrap("{oops".getBytes(StandardCharsets.UTF_8))));
        send(event("v4", "json").setTenant("acme").setPriority(7));
        send(event("v5", "json").setTenant("acme").setHeaders(Map.of("wharf-chain-depth", "17")));
        send(event("v6", "json").setTenant("acme").setContentType("application/json; charset=utf-8")
                .setPayload(ByteBuffer.wrap("{\"ok\":true}".getBytes(StandardCharsets.UTF_8))));
        List<JobResult> refused = results.readValuesToList();
        assertThat(refused).allSatisfy(r -> assertThat(r.getStatus()).isEqualTo(JobStatus.REJECTED));
        assertThat(refused.get(0).getError()).contains("tenant 'default'").contains("tenant 'acme'");
        assertThat(refused.get(1).getError()).contains("not content type 'text/plain'");
        assertThat(refused.get(2).getError()).contains("not valid JSON");
        assertThat(refused.get(3).getError()).contains("priority 7");
        assertThat(refused.get(4).getError()).contains("cycle");
        assertThat(dlq.readValuesToList()).hasSize(5);
        assertThat(jobIds()).containsExactly("v6");
    }
}
