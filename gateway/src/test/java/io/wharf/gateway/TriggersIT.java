package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** {@code /v1/triggers} on a gateway, which runs the triggers it is told of: a record of the topic runs the function. */
class TriggersIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayStack stack;
    private static String admin;
    private static String tenantKey;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        admin = stack.key("default", true);
        tenantKey = stack.key("trigger-tenant-" + stack.suffix, false);
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    @Test
    void anAdminMakesATriggerThatRunsTheFunctionForEachRecordAndPausesAndDeletesIt() throws Exception {
        String function = stack.deploy("triggered", "default", spec -> spec.setCommand(List.of("sh", "-c", "cat")));
        String topic = "signups-" + UUID.randomUUID().toString().substring(0, 6);
        try (Admin kafka = stack.client.admin()) {
            kafka.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        String name = "signups-" + stack.suffix;
        String body = "{\"name\": \"" + name + "\", \"topic\": \"" + topic + "\", \"function\": \"" + function + "\", \"format\": \"json\"}";

        assertThat(stack.call("POST", "/v1/triggers", tenantKey, body).statusCode()).as("a tenant's key").isEqualTo(403);
        HttpResponse<String> bad = stack.call("POST", "/v1/triggers", admin, body.replace("\"json\"", "\"xml\""));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).get("message").asText()).contains("'xml'").contains("raw, json, avro");
        HttpResponse<String> noTopic = stack.call("POST", "/v1/triggers", admin, body.replace(topic, "no-such-topic"));
        assertThat(noTopic.statusCode()).isEqualTo(400);
        assertThat(json(noTopic).get("message").asText()).contains("Topic no-such-topic does not exist");

        HttpResponse<String> created = stack.call("POST", "/v1/triggers", admin, body);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(stack.call("POST", "/v1/triggers", admin, body).statusCode()).as("the same name again").isEqualTo(409);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", stack.bootstrap),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, "u1", "{\"user\": 1}"));
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonNode jobs = json(stack.call("GET", "/v1/jobs?function=" + function, admin, null)).get("jobs");
            assertThat(jobs).hasSize(1);
            assertThat(jobs.get(0).get("status").asText()).isEqualTo("SUCCEEDED");
        });
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode trigger = json(stack.call("GET", "/v1/triggers/" + name, admin, null));
            assertThat(trigger.get("lag").asLong()).isZero();
            assertThat(trigger.at("/here/state").asText()).isEqualTo("RUNNING");
        });

        assertThat(json(stack.call("POST", "/v1/triggers/" + name + "/pause", admin, null)).get("paused").asBoolean()).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> json(stack.call("GET", "/v1/triggers/" + name, admin, null)).at("/here/state").asText()
                .equals("PAUSED"));
        assertThat(json(stack.call("GET", "/v1/triggers", tenantKey, null)).get("triggers")).as("another tenant's").isEmpty();
        assertThat(stack.call("DELETE", "/v1/triggers/" + name, admin, null).statusCode()).isEqualTo(204);
        assertThat(stack.call("GET", "/v1/triggers/" + name, admin, null).statusCode()).isEqualTo(404);
    }
}
