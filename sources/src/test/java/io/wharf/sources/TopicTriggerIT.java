package io.wharf.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.client.Triggers;
import io.wharf.records.DeadLetter;
import io.wharf.records.Event;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.Trigger;
import io.wharf.sources.spi.TriggerRun;
import io.wharf.topics.Topics;

/** Records of a user's topic become events and jobs, each exactly once, across restarts and rebalances. */
class TopicTriggerIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private SourcesStack stack;
    private final List<String> made = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        stack = SourcesStack.shared();
    }

    /** Each test's triggers go with it, so that the next test's instances do not run them too. */
    @AfterEach
    void tearDown() {
        made.forEach(name -> stack.client.triggers().delete(name));
    }

    private Trigger create(Trigger trigger) {
        made.add(trigger.getName());
        return stack.client.triggers().create(trigger);
    }

    private static String text(JobResult result) {
        return StandardCharsets.UTF_8.decode(result.getBody().duplicate()).toString();
    }

    private List<JobResult> results(String function) {
        return stack.read(Topics.RESULTS, JobResult.class, r -> r.getFunction().equals(function));
    }

    private List<Event> events(String function) {
        return stack.read(Topics.EVENTS, Event.class, e -> e.getFunction().equals(function));
    }

    @Test
    void everyRecordBecomesExactlyOneEventAndResultAcrossARestartAndARebalance() throws Exception {
        String topic = stack.topic("orders", 4);
        String function = stack.deployEcho("orders");
        List<Map.Entry<String, byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            records.add(Map.entry("customer-" + (i % 37), ("order " + i).getBytes(StandardCharsets.UTF_8)));
        }
        create(Triggers.topicTrigger("orders-" + stack.suffix, function, "default", topic, "raw", "earliest", 1,
                Duration.ofSeconds(1), "key"));
        Sources first = stack.startSources("first");
        Sources second = null;
        try {
            stack.produce(topic, records.subList(0, 400));
            await().atMost(Duration.ofSeconds(60)).until(() -> events(function).size() >= 200);
            second = stack.startSources("second"); // the partitions are shared between the two: a rebalance mid-stream
            stack.produce(topic, records.subList(400, 700));
            await().atMost(Duration.ofSeconds(60)).until(() -> events(function).size() >= 500);
            first.close(); // its partitions move to the second
            stack.produce(topic, records.subList(700, 1000));

            await().atMost(Duration.ofSeconds(120)).until(() -> events(function).size() >= 1000);
            List<Event> events = events(function);
            assertThat(events).hasSize(1000);
            assertThat(events.stream().map(Event::getId).distinct()).hasSize(1000);
            await().atMost(Duration.ofSeconds(180)).until(() -> results(function).size() >= 1000);
            List<JobResult> results = results(function);
            assertThat(results).hasSize(1000).allSatisfy(r -> assertThat(r.getStatus()).isEqualTo(JobStatus.SUCCEEDED));
            assertThat(results.stream().map(TopicTriggerIT::text).collect(Collectors.toSet()))
                    .isEqualTo(records.stream().map(r -> new String(r.getValue(), StandardCharsets.UTF_8)).collect(Collectors.toSet()));
            Event one = events.getFirst();
            assertThat(one.getKey()).startsWith("customer-");
            assertThat(one.getHeaders()).containsEntry("wharf-topic", topic).containsKeys("wharf-partition", "wharf-offset");
            assertThat(stack.client.triggers().lag(stack.client.triggers().get("orders-" + stack.suffix))).hasValue(0);
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    @Test
    void aBatchingTriggerGathersRecordsIntoJsonArrays() throws Exception {
        String topic = stack.topic("clicks", 1);
        String function = stack.deployEcho("clicks");
        List<Map.Entry<String, byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            records.add(Map.entry("k" + i, ("{\"click\": " + i + "}").getBytes(StandardCharsets.UTF_8)));
        }
        stack.produce(topic, records);
        create(Triggers.topicTrigger("clicks-" + stack.suffix, function, "default", topic, "json", "earliest", 50,
                Duration.ofSeconds(1), "key"));
        try (Sources sources = stack.startSources("batching")) {
            await().atMost(Duration.ofSeconds(120)).until(() -> results(function).size() >= 20);
            List<JobResult> results = results(function);
            assertThat(results).hasSize(20);
            List<Integer> clicks = new ArrayList<>();
            for (JobResult result : results) {
                JsonNode batch = JSON.readTree(text(result));
                assertThat(batch.size()).isEqualTo(50);
                batch.forEach(element -> {
                    assertThat(element.get("topic").asText()).isEqualTo(topic);
                    assertThat(element.get("key").asText()).isEqualTo("k" + element.at("/value/click").asInt());
                    clicks.add(element.at("/value/click").asInt());
                });
            }
            assertThat(clicks).hasSize(1000).doesNotHaveDuplicates();
        }
    }

    @Test
    void aRecordTheFormatRefusesIsDeadLetteredWithItsReasonAndTheOthersGoOn() throws Exception {
        String topic = stack.topic("payments", 1);
        String function = stack.deployEcho("payments");
        stack.produce(topic, List.of(Map.entry("a", "{\"amount\": 1}".getBytes(StandardCharsets.UTF_8)),
                Map.entry("b", "not json at all".getBytes(StandardCharsets.UTF_8)),
                Map.entry("c", "{\"amount\": 3}".getBytes(StandardCharsets.UTF_8))));
        String name = "payments-" + stack.suffix;
        create(Triggers.topicTrigger(name, function, "default", topic, "json", "earliest", 1, Duration.ofSeconds(1), "key"));
        try (Sources sources = stack.startSources("dead-letters")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> results(function).size() >= 2);
            assertThat(results(function)).extracting(TopicTriggerIT::text).containsExactlyInAnyOrder("{\"amount\": 1}", "{\"amount\": 3}");
            await().atMost(Duration.ofSeconds(30)).until(() -> !stack.read(Topics.DLQ, DeadLetter.class, d -> d.getSourceTopic().equals(topic)).isEmpty());
            DeadLetter letter = stack.read(Topics.DLQ, DeadLetter.class, d -> d.getSourceTopic().equals(topic)).getFirst();
            assertThat(letter.getReason()).contains(name).contains("not JSON").contains("--format raw");
            assertThat(letter.getSourceOffset()).isEqualTo(1);
            assertThat(StandardCharsets.UTF_8.decode(letter.getOriginalValue()).toString()).isEqualTo("not json at all");
        }
    }

    @Test
    void aJobSeesItsRecordsKeyHeadersAndSourceAndAPausedTriggerTakesNothingUntilResumed() throws Exception {
        String topic = stack.topic("signups", 2);
        String function = stack.deployScript("signups", "echo \"$WHARF_EVENT_KEY $WHARF_EVENT_TOPIC $WHARF_EVENT_HEADER_SOURCE_APP\"");
        String name = "signups-" + stack.suffix;
        Trigger trigger = Triggers.topicTrigger(name, function, "default", topic, "raw", "earliest", 1, Duration.ofSeconds(1), "key");
        trigger.setPaused(true);
        create(trigger);
        try (Sources sources = stack.startSources("paused")) {
            Properties p = new Properties();
            p.put("bootstrap.servers", stack.bootstrap);
            try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(p,
                    new org.apache.kafka.common.serialization.StringSerializer(), new org.apache.kafka.common.serialization.StringSerializer())) {
                var record = new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "user-42", "hello");
                record.headers().add("source-app", "mobile".getBytes(StandardCharsets.UTF_8));
                producer.send(record);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> sources.runs().get(name) != null
                    && sources.runs().get(name).state() == TriggerRun.State.PAUSED);
            await().atMost(Duration.ofSeconds(30)).until(() -> stack.client.triggers().lag(trigger).orElse(-1) == 1);
            assertThat(events(function)).as("a paused trigger sends nothing").isEmpty();

            stack.client.triggers().pause(name, false);
            await().atMost(Duration.ofSeconds(60)).until(() -> results(function).size() == 1);
            assertThat(text(results(function).getFirst())).isEqualTo("user-42 " + topic + " mobile\n");
        }
    }

    @Test
    void anAvroTopicsValuesReachTheJobAsJson() throws Exception {
        String topic = stack.topic("invoices", 1);
        String function = stack.deployEcho("invoices");
        org.apache.avro.Schema schema = org.apache.avro.SchemaBuilder.record("Invoice").namespace("com.example").fields()
                .requiredString("id").requiredDouble("total").optionalString("note")
                .name("lines").type().array().items().stringType().noDefault().endRecord();
        io.wharf.serde.SchemaRegistryClient registry = io.wharf.serde.SchemaRegistryClients.forSettings(
                io.wharf.client.WharfClient.registrySettings(stack.registry, Map.of()));
        int id = registry.register(topic + "-value", schema);
        List<Map.Entry<String, byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            org.apache.avro.generic.GenericData.Record invoice = new org.apache.avro.generic.GenericData.Record(schema);
            invoice.put("id", "inv-" + i);
            invoice.put("total", 10.5 * i);
            invoice.put("note", i == 1 ? "rush" : null);
            invoice.put("lines", List.of("a", "b"));
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            bytes.write(0); // the registry's wire format: magic byte, schema id, Avro binary
            bytes.write(java.nio.ByteBuffer.allocate(4).putInt(id).array());
            org.apache.avro.io.BinaryEncoder encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(bytes, null);
            new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericData.Record>(schema).write(invoice, encoder);
            encoder.flush();
            records.add(Map.entry("inv-" + i, bytes.toByteArray()));
        }
        stack.produce(topic, records);
        create(Triggers.topicTrigger("invoices-" + stack.suffix, function, "default", topic, "avro", "earliest", 1, Duration.ofSeconds(1), "json:/id"));
        try (Sources sources = stack.startSources("avro")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> results(function).size() >= 3);
            List<JsonNode> invoices = new ArrayList<>();
            for (JobResult result : results(function)) {
                invoices.add(JSON.readTree(text(result)));
            }
            assertThat(invoices).containsExactlyInAnyOrder(
                    JSON.readTree("{\"id\": \"inv-0\", \"total\": 0.0, \"note\": null, \"lines\": [\"a\", \"b\"]}"),
                    JSON.readTree("{\"id\": \"inv-1\", \"total\": 10.5, \"note\": \"rush\", \"lines\": [\"a\", \"b\"]}"),
                    JSON.readTree("{\"id\": \"inv-2\", \"total\": 21.0, \"note\": null, \"lines\": [\"a\", \"b\"]}"));
            assertThat(events(function)).extracting(Event::getKey).containsExactlyInAnyOrder("inv-0", "inv-1", "inv-2");
        }
    }
}
