package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Properties;

import org.apache.kafka.common.serialization.ByteArraySerializer;
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

import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.Ordering;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.InMemorySchemaRegistryClient;
import io.wharf.topics.Topics;

class DispatcherTopologyTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private TopologyTestDriver driver;
    private TestInputTopic<String, FunctionSpec> functions;
    private TestInputTopic<String, Event> events;
    private TestInputTopic<String, byte[]> rawEvents;
    private TestOutputTopic<String, Job> jobs;
    private TestOutputTopic<String, JobResult> results;
    private TestOutputTopic<String, DeadLetter> dlq;

    @BeforeEach
    void setUp() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dispatcher-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(DispatcherTopology.build(registry), props);
        functions = driver.createInputTopic(Topics.FUNCTIONS, new StringSerializer(), new AvroSerializer<>(registry));
        events = driver.createInputTopic(Topics.EVENTS, new StringSerializer(), new AvroSerializer<>(registry));
        rawEvents = driver.createInputTopic(Topics.EVENTS, new StringSerializer(), new ByteArraySerializer());
        jobs = driver.createOutputTopic(Topics.jobs("default"), new StringDeserializer(), new AvroDeserializer<>(registry, Job.class));
        results = driver.createOutputTopic(Topics.RESULTS, new StringDeserializer(), new AvroDeserializer<>(registry, JobResult.class));
        dlq = driver.createOutputTopic(Topics.DLQ, new StringDeserializer(), new AvroDeserializer<>(registry, DeadLetter.class));
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    static FunctionSpec function(String name) {
        return FunctionSpec.newBuilder().setName(name).setImage("wharf-local/busybox:1").build();
    }

    static Event event(String id, String function, String payload) {
        return Event.newBuilder().setId(id).setFunction(function)
                .setPayload(ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)))
                .setCreatedAt(Instant.ofEpochMilli(1_000)).build();
    }

    @Test
    void shouldTurnAnEventForADeployedFunctionIntoAJobOnItsPool() {
        functions.pipeInput("echo", function("echo"));
        events.pipeInput("echo", event("job-1", "echo", "hello"));

        TestRecord<String, Job> job = jobs.readRecord();
        assertThat(job.key()).isEqualTo("job-1");
        assertThat(job.value().getJobId()).isEqualTo("job-1");
        assertThat(job.value().getAttempt()).isEqualTo(1);
        assertThat(job.value().getFunction()).isEqualTo(function("echo"));
        assertThat(StandardCharsets.UTF_8.decode(job.value().getPayload()).toString()).isEqualTo("hello");
        assertThat(results.isEmpty()).isTrue();
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void shouldRouteToTheFunctionsPoolAndKeyByTheOrderingKey() {
        functions.pipeInput("ordered", FunctionSpec.newBuilder(function("ordered")).setPool("gpu").setOrdering(Ordering.KEY).build());
        Event keyed = Event.newBuilder(event("job-2", "ordered", "x")).setKey("customer-7").build();
        events.pipeInput("ordered", keyed);

        TestOutputTopic<String, Job> gpu = driver.createOutputTopic(Topics.jobs("gpu"), new StringDeserializer(), new AvroDeserializer<>(registry, Job.class));
        assertThat(gpu.readRecord().key()).isEqualTo("customer-7");
        assertThat(jobs.isEmpty()).isTrue();
    }

    @Test
    void shouldRejectAnUnknownFunctionAndGoOnWithTheNextEvent() {
        functions.pipeInput("echo", function("echo"));
        events.pipeInput("nope", event("job-3", "nope", "x"));
        events.pipeInput("echo", event("job-4", "echo", "y"));

        JobResult rejected = results.readValue();
        assertThat(rejected.getJobId()).isEqualTo("job-3");
        assertThat(rejected.getStatus()).isEqualTo(JobStatus.REJECTED);
        assertThat(rejected.getError()).contains("Unknown function 'nope'").contains("wharf deploy");
        DeadLetter letter = dlq.readValue();
        assertThat(letter.getId()).isEqualTo("job-3");
        assertThat(letter.getReason()).contains("Unknown function");
        assertThat(letter.getSourceTopic()).isEqualTo(Topics.EVENTS);
        assertThat(jobs.readValue().getJobId()).isEqualTo("job-4");
    }

    @Test
    void shouldCarryTheCallbackOfARefusedEventSoItsCallerHearsOfTheRefusal() {
        events.pipeInput("nope", Event.newBuilder(event("job-cb", "nope", "x")).setCallback("http://127.0.0.1:9/hook").build());

        JobResult rejected = results.readValue();
        assertThat(rejected.getStatus()).isEqualTo(JobStatus.REJECTED);
        assertThat(rejected.getCallback()).isEqualTo("http://127.0.0.1:9/hook");
        assertThat(io.wharf.rules.JobStates.of(rejected, null, 0L).getCallback()).isEqualTo("http://127.0.0.1:9/hook");
    }

    @Test
    void shouldRejectUndecodableBytesKeepingThemInTheDeadLetterAndGoOn() {
        functions.pipeInput("echo", function("echo"));
        byte[] garbage = "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8);
        rawEvents.pipeInput("echo", garbage);
        events.pipeInput("echo", event("job-5", "echo", "y"));

        JobResult rejected = results.readValue();
        assertThat(rejected.getStatus()).isEqualTo(JobStatus.REJECTED);
        assertThat(rejected.getJobId()).isEqualTo("wharf.events-0@0");
        assertThat(rejected.getError()).contains("could not be decoded").contains("magic byte");
        DeadLetter letter = dlq.readValue();
        assertThat(letter.getOriginalValue()).isEqualTo(ByteBuffer.wrap(garbage));
        assertThat(letter.getSourceOffset()).isZero();
        assertThat(jobs.readValue().getJobId()).isEqualTo("job-5");
    }

    @Test
    void shouldRekeyAnEventProducedUnderAnotherKey() {
        functions.pipeInput("echo", function("echo"));
        events.pipeInput("wrong-key", event("job-6", "echo", "y"));
        events.pipeInput((String) null, event("job-7", "echo", "z"));

        assertThat(jobs.readValuesToList()).extracting(Job::getJobId).containsExactly("job-6", "job-7");
        assertThat(results.isEmpty()).isTrue();
    }

    @Test
    void shouldApplyFunctionUpdatesAndDeletesToTheNextEvent() {
        functions.pipeInput("echo", function("echo"));
        functions.pipeInput("echo", FunctionSpec.newBuilder(function("echo")).setMemoryMb(512).build());
        events.pipeInput("echo", event("job-8", "echo", "y"));
        assertThat(jobs.readValue().getFunction().getMemoryMb()).isEqualTo(512);

        functions.pipeInput("echo", (FunctionSpec) null);
        events.pipeInput("echo", event("job-9", "echo", "y"));
        assertThat(results.readValue().getStatus()).isEqualTo(JobStatus.REJECTED);
    }

    @Test
    void shouldRejectDisabledFunctionsAndOversizedPayloads() {
        functions.pipeInput("off", FunctionSpec.newBuilder(function("off")).setEnabled(false).build());
        functions.pipeInput("small", FunctionSpec.newBuilder(function("small")).setMaxPayloadBytes(4).build());
        events.pipeInput("off", event("job-10", "off", "y"));
        events.pipeInput("small", event("job-11", "small", "12345"));

        assertThat(results.readValue().getError()).contains("disabled");
        assertThat(results.readValue().getError()).contains("5 bytes").contains("maxPayloadBytes");
        assertThat(jobs.isEmpty()).isTrue();
    }

    @Test
    void shouldRefuseAFunctionWithAnInvalidPoolKeepingThePreviousDefinition() {
        functions.pipeInput("echo", function("echo"));
        functions.pipeInput("echo", FunctionSpec.newBuilder(function("echo")).setPool("no spaces please").build());
        assertThat(dlq.readValue().getReason()).contains("Pool name 'no spaces please' is invalid").contains("previous definition stays");
        events.pipeInput("echo", event("job-13", "echo", "y"));
        assertThat(jobs.readValue().getFunction().getPool()).isEqualTo("default");
    }

    @Test
    void shouldDeadLetterAFunctionRecordWhoseKeyIsNotItsName() {
        functions.pipeInput("alias", function("echo"));
        assertThat(dlq.readValue().getReason()).contains("key and name must be equal");
        events.pipeInput("alias", event("job-12", "alias", "y"));
        assertThat(results.readValue().getStatus()).isEqualTo(JobStatus.REJECTED);
    }

    @Test
    void shouldDeadLetterAnEventRecordWithNoValueAndGoOn() {
        functions.pipeInput("echo", function("echo"));
        rawEvents.pipeInput("echo", (byte[]) null);
        events.pipeInput("echo", event("job-20", "echo", "y"));

        assertThat(results.readValue().getError()).contains("no value");
        assertThat(dlq.readValue().getReason()).contains("no value");
        assertThat(jobs.readValue().getJobId()).isEqualTo("job-20");
    }

    @Test
    void shouldRejectARecordOfAnotherTypeOrAnUnknownSchemaIdAndGoOn() {
        functions.pipeInput("echo", function("echo"));
        byte[] schedule = new AvroSerializer<io.wharf.records.Schedule>(registry).serialize(Topics.SCHEDULES, io.wharf.records.Schedule.newBuilder()
                .setId("s").setFunction("echo").setCron("* * * * *").setCreatedAt(Instant.EPOCH).build());
        rawEvents.pipeInput("echo", schedule);
        rawEvents.pipeInput("echo", new byte[] {0, 0, 0, 0x7f, 0x7f, 2, 4});
        events.pipeInput("echo", event("job-21", "echo", "y"));

        assertThat(results.readValue().getError()).contains("could not be decoded").contains("Schedule");
        assertThat(results.readValue().getError()).contains("could not be decoded").contains("schema id 32639");
        assertThat(dlq.readValuesToList()).hasSize(2);
        assertThat(jobs.readValue().getJobId()).isEqualTo("job-21");
    }

    @Test
    void shouldRejectEventsThatBreakTheirFunctionsContractNamingWhat() {
        functions.pipeInput("echo", function("echo"));
        functions.pipeInput("acme", FunctionSpec.newBuilder(function("acme")).setTenant("acme").build());
        functions.pipeInput("json", FunctionSpec.newBuilder(function("json")).setContentTypes(java.util.List.of("application/json")).build());
        events.pipeInput("echo", Event.newBuilder(event("bad-1", "echo", "[1,")).setFanOut(true).build());
        events.pipeInput("echo", Event.newBuilder(event("bad-2", "echo", "{\"a\":1}")).setFanOut(true).build());
        events.pipeInput("echo", Event.newBuilder(event("bad-3", "echo", "[]")).setFanOut(true).build());
        events.pipeInput("json", Event.newBuilder(event("bad-4", "json", "not json")).setContentType("application/json").build());
        events.pipeInput("json", Event.newBuilder(event("bad-5", "json", "x")).setContentType("text/plain").build());
        events.pipeInput("acme", event("bad-6", "acme", "x"));
        events.pipeInput("echo", Event.newBuilder(event("bad-7", "echo", "x")).setPriority(9).build());

        java.util.List<JobResult> refused = results.readValuesToList();
        assertThat(refused).extracting(JobResult::getStatus).containsOnly(JobStatus.REJECTED);
        assertThat(refused).extracting(JobResult::getError).satisfiesExactly(
                e -> assertThat(e).contains("not valid JSON").contains("fan-out event carries a JSON array"),
                e -> assertThat(e).contains("must carry a JSON array"),
                e -> assertThat(e).contains("must carry a JSON array of 1 to"),
                e -> assertThat(e).contains("not valid JSON"),
                e -> assertThat(e).contains("accepts [application/json], not content type 'text/plain'"),
                e -> assertThat(e).contains("of tenant 'default' may not run function 'acme' of tenant 'acme'"),
                e -> assertThat(e).contains("priority 9"));
        assertThat(dlq.readValuesToList()).hasSize(7);
        assertThat(jobs.isEmpty()).isTrue();
    }

    @Test
    void shouldTakeOnlySealedPayloadsForAFunctionWithAKeyCheckingTheContentTypeSealedInside() throws Exception {
        java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        java.security.interfaces.RSAPublicKey key = (java.security.interfaces.RSAPublicKey) rsa.generateKeyPair().getPublic();
        functions.pipeInput("vault", FunctionSpec.newBuilder(function("vault")).setContentTypes(java.util.List.of("application/json"))
                .setPayloadKey(java.util.Base64.getEncoder().encodeToString(key.getEncoded())).build());
        events.pipeInput("vault", io.wharf.secrets.PayloadEnvelope.sealed(Event.newBuilder(event("sealed-1", "vault", "{\"pin\": 1}"))
                .setContentType("application/json").build(), key));
        events.pipeInput("vault", io.wharf.secrets.PayloadEnvelope.sealed(Event.newBuilder(event("sealed-2", "vault", "x"))
                .setContentType("text/plain").build(), key));
        events.pipeInput("vault", Event.newBuilder(event("clear-3", "vault", "{}")).setContentType("application/json").build());

        Job job = jobs.readValue();
        assertThat(job.getJobId()).isEqualTo("sealed-1");
        assertThat(job.getContentType()).isEqualTo(io.wharf.secrets.PayloadEnvelope.CONTENT_TYPE);
        assertThat(java.nio.charset.StandardCharsets.US_ASCII.decode(job.getPayload()).toString()).doesNotContain("pin");
        assertThat(results.readValuesToList()).extracting(JobResult::getError).satisfiesExactly(
                e -> assertThat(e).contains("accepts [application/json], not content type 'text/plain' (sealed)"),
                e -> assertThat(e).contains("takes sealed payloads only").contains("is in clear"));
    }

    @Test
    void shouldRefuseAFunctionRecordNoJobCouldRunWithKeepingThePreviousDefinition() {
        functions.pipeInput("echo", function("echo"));
        functions.pipeInput("echo", FunctionSpec.newBuilder(function("echo")).setCpus(0).build());
        functions.pipeInput("echo", FunctionSpec.newBuilder(function("echo")).setMaxConcurrency(-1).build());
        assertThat(dlq.readValuesToList()).extracting(DeadLetter::getReason).satisfiesExactly(
                r -> assertThat(r).contains("cpus '0.0' is invalid").contains("previous definition stays"),
                r -> assertThat(r).contains("maxConcurrency '-1' is invalid"));
        events.pipeInput("echo", event("job-22", "echo", "y"));
        assertThat(jobs.readValue().getFunction().getCpus()).isEqualTo(1.0);
    }

    @Test
    void shouldCarryTheHttpRequestOfAnEventIntoItsJob() {
        functions.pipeInput("echo", function("echo"));
        io.wharf.records.HttpRequest request = io.wharf.records.HttpRequest.newBuilder().setMethod("POST").setPath("/a/b").setQuery("q=1")
                .setHeaders(java.util.Map.of("accept", "text/plain")).build();
        events.pipeInput("echo", Event.newBuilder(event("job-30", "echo", "x")).setHttp(request).build());
        events.pipeInput("echo", event("job-31", "echo", "y"));
        assertThat(jobs.readValuesToList()).extracting(Job::getHttp).containsExactly(request, null);
    }
}
