package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

/** Async calls, the job status store, callbacks, logs and cancels, through real gateways on the real broker and Docker engine. */
class JobsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayStack stack;
    private static Gateway second;
    private static String keyA;
    private static String keyB;
    private static String slowEcho;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        second = stack.startGateway();
        keyA = stack.key("tenant-a", false);
        keyB = stack.key("tenant-b", false);
        slowEcho = stack.deploy("slow-echo", "tenant-a", f -> f.setCommand(List.of("sh", "-c",
                "echo starting; sleep 1; echo \"got $(cat)\"; echo 'a warning' >&2")));
    }

    @AfterAll
    static void stop() {
        second.close();
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    private static String submit(Gateway via, String function, String key, String body, Map<String, String> headers) throws Exception {
        HttpResponse<String> response = stack.call(via, "POST", "/async-function/" + function, key, body, headers);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return json(response).get("jobId").asText();
    }

    @Test
    void anAsyncCallIsQueuedOrRunningThenEndsAndItsResultIsTheOutput() throws Exception {
        String id = submit(stack.gateway, slowEcho, keyA, "parcel", Map.of());
        JsonNode early = json(stack.call("GET", "/v1/jobs/" + id, keyA, null));
        assertThat(early.get("status").asText()).isIn("QUEUED", "RUNNING");
        assertThat(early.get("function").asText()).isEqualTo(slowEcho);
        assertThat(early.get("tenant").asText()).isEqualTo("tenant-a");
        HttpResponse<String> notYet = stack.call("GET", "/v1/jobs/" + id + "/result", keyA, null);
        assertThat(notYet.statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> json(stack.call("GET", "/v1/jobs/" + id, keyA, null)).get("final").asBoolean());
        JsonNode done = json(stack.call("GET", "/v1/jobs/" + id, keyA, null));
        assertThat(done.get("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(done.get("exitCode").asInt()).isZero();
        assertThat(done.get("attempt").asInt()).isEqualTo(1);
        assertThat(done.get("timings").get("startedAt").asText()).as("the container's lifetime").isNotEmpty();
        assertThat(java.time.Instant.parse(done.get("timings").get("exitedAt").asText()))
                .isAfterOrEqualTo(java.time.Instant.parse(done.get("timings").get("startedAt").asText()));
        assertThat(early.get("timings").isNull()).as("no lifetime before it ends").isTrue();
        HttpResponse<String> result = stack.call("GET", "/v1/jobs/" + id + "/result", keyA, null);
        assertThat(result.statusCode()).isEqualTo(200);
        assertThat(result.body()).isEqualTo("starting\ngot parcel\n");
        assertThat(result.headers().firstValue("X-Call-Id")).hasValue(id);
    }

    @Test
    void aCallbackReachesAListenerOnLoopbackWithTheOutputAndHeaders() throws Exception {
        LinkedBlockingQueue<String[]> received = new LinkedBlockingQueue<>();
        HttpServer listener = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        listener.createContext("/done", exchange -> {
            received.add(new String[] {exchange.getRequestHeaders().getFirst("X-Call-Id"), exchange.getRequestHeaders().getFirst("X-Wharf-Status"),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8), exchange.getRequestHeaders().getFirst("Idempotent-Replayed")});
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        listener.start();
        try {
            String url = "http://127.0.0.1:" + listener.getAddress().getPort() + "/done";
            String id = submit(stack.gateway, slowEcho, keyA, "called back", Map.of("X-Callback-Url", url));
            String[] call = received.poll(60, TimeUnit.SECONDS);
            assertThat(call).as("a callback within 60 s").isNotNull();
            assertThat(call[0]).isEqualTo(id);
            assertThat(call[1]).isEqualTo("SUCCEEDED");
            assertThat(call[2]).isEqualTo("starting\ngot called back\n");
            assertThat(call[3]).isNull();
            assertThat(received.poll(2, TimeUnit.SECONDS)).as("delivered once, though two gateways run").isNull();

            // A retry under an idempotency key is called back with the first call's result, marked as replayed.
            Map<String, String> keyed = Map.of("X-Callback-Url", url, "Idempotency-Key", "callback-" + stack.suffix);
            String first = submit(stack.gateway, slowEcho, keyA, "once", keyed);
            submit(second, slowEcho, keyA, "once", keyed);
            List<String[]> calls = List.of(received.poll(60, TimeUnit.SECONDS), received.poll(60, TimeUnit.SECONDS));
            assertThat(calls).allSatisfy(c -> {
                assertThat(c[0]).isEqualTo(first);
                assertThat(c[2]).isEqualTo("starting\ngot once\n");
            });
            assertThat(calls).extracting(c -> c[3]).as("the retry's is replayed").containsExactlyInAnyOrder(null, "true");
        } finally {
            listener.stop(0);
        }
        HttpResponse<String> bad = stack.call(stack.gateway, "POST", "/async-function/" + slowEcho, keyA, "x",
                Map.of("X-Callback-Url", "ftp://127.0.0.1/x"));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).get("message").asText()).contains("http:// or https://");
        // A private address is refused before anything is sent to it (the default allows public and loopback only).
        HttpResponse<String> inside = stack.call(stack.gateway, "POST", "/async-function/" + slowEcho, keyA, "x",
                Map.of("X-Callback-Url", "http://10.0.0.5:8080/hook"));
        assertThat(inside.statusCode()).isEqualTo(400);
        assertThat(json(inside).get("message").asText()).contains("private address").contains("wharf.gateway.callbacks.allow");
        assertThat(inside.headers().firstValue("X-Call-Id")).as("no job made").isEmpty();
    }

    @Test
    void theLogsOfAJobStreamAsServerSentEventsUntilItEnds() throws Exception {
        String id = submit(stack.gateway, slowEcho, keyA, "logged", Map.of());
        HttpResponse<String> followed = stack.call("GET", "/v1/jobs/" + id + "/logs?follow=true", keyA, null);
        assertThat(followed.statusCode()).isEqualTo(200);
        assertThat(followed.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        assertThat(followed.body()).contains("event: line").contains("\"line\":\"starting\"").contains("\"line\":\"got logged\"")
                .contains("\"stream\":\"stderr\"").contains("\"line\":\"a warning\"");
        assertThat(followed.body()).contains("event: end").contains("\"status\":\"SUCCEEDED\"");
        String again = stack.call("GET", "/v1/jobs/" + id + "/logs", keyA, null).body();
        assertThat(again).contains("\"line\":\"got logged\"");
    }

    @Test
    void aJobStartedThroughOneGatewayIsAnsweredListedAndCancelledThroughTheOther() throws Exception {
        String sleeper = stack.deploy("sleeper", "tenant-a", f -> f.setCommand(List.of("sleep", "60")).setTimeoutMillis(120_000));
        String id = submit(stack.gateway, sleeper, keyA, "", Map.of());
        HttpResponse<String> seen = stack.call(second, "GET", "/v1/jobs/" + id, keyA, null, Map.of());
        assertThat(seen.statusCode()).isEqualTo(200);
        JsonNode listed = json(stack.call(second, "GET", "/v1/jobs?function=" + sleeper, keyA, null, Map.of()));
        assertThat(listed.get("jobs")).extracting(j -> j.get("jobId").asText()).containsExactly(id);
        await().atMost(Duration.ofSeconds(60)).until(() -> json(stack.call(second, "GET", "/v1/jobs/" + id, keyA, null, Map.of()))
                .get("status").asText().equals("RUNNING"));
        assertThat(stack.call(second, "DELETE", "/v1/jobs/" + id, keyA, null, Map.of()).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> json(stack.call("GET", "/v1/jobs/" + id, keyA, null)).get("status").asText()
                .equals("CANCELLED"));
        assertThat(stack.call(second, "DELETE", "/v1/jobs/" + id, keyA, null, Map.of()).statusCode()).isEqualTo(409);
        HttpResponse<String> result = stack.call(second, "GET", "/v1/jobs/" + id + "/result", keyA, null, Map.of());
        assertThat(result.statusCode()).isEqualTo(409);
        assertThat(json(result).get("status").asText()).isEqualTo("CANCELLED");
    }

    @Test
    void callsWithOneIdempotencyKeyRunOnceThroughAnyGatewayAreAnsweredByTheFirstAndOnlyTheKeyIsRemembered() throws Exception {
        String key = "order-" + stack.suffix;
        Map<String, String> keyed = Map.of("Idempotency-Key", key);
        String first = submit(stack.gateway, slowEcho, keyA, "paid", keyed);
        String again = submit(second, slowEcho, keyA, "paid", keyed);
        String plain = submit(stack.gateway, slowEcho, keyA, "plain", Map.of());
        JsonNode repeated = await().atMost(Duration.ofSeconds(30)).until(() -> json(stack.call("GET", "/v1/jobs/" + again, keyA, null)),
                s -> s.get("final").asBoolean());
        assertThat(repeated.get("status").asText()).isEqualTo("REJECTED");
        assertThat(repeated.get("reason").asText()).contains("Duplicate of job " + first).contains(key);

        // A retry gets the first call's answer, whether it asks synchronously or for the repeated job's result.
        HttpResponse<String> retried = stack.call(second, "POST", "/function/" + slowEcho, keyA, "paid", keyed);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        assertThat(retried.body()).isEqualTo("starting\ngot paid\n");
        assertThat(retried.headers().firstValue("X-Call-Id")).contains(first);
        assertThat(retried.headers().firstValue("Idempotent-Replayed")).contains("true");
        HttpResponse<String> result = stack.call(second, "GET", "/v1/jobs/" + again + "/result", keyA, null, Map.of());
        assertThat(result.statusCode()).isEqualTo(200);
        assertThat(result.body()).isEqualTo("starting\ngot paid\n");
        assertThat(result.headers().firstValue("X-Call-Id")).contains(first);
        // The key sent with another request is refused, naming what was wrong, and runs nothing.
        HttpResponse<String> reused = stack.call(stack.gateway, "POST", "/function/" + slowEcho, keyA, "refund", keyed);
        assertThat(reused.statusCode()).as(reused.body()).isEqualTo(400);
        assertThat(json(reused).get("reason").asText()).contains(key).contains("another request").contains("new key");
        assertThat(reused.headers().firstValue("Idempotent-Replayed")).isEmpty();

        for (String id : List.of(first, plain)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> json(stack.call("GET", "/v1/jobs/" + id, keyA, null)).get("status").asText()
                    .equals("SUCCEEDED"));
        }
        // Each request's own id is new and sent once, so the dispatcher keeps no entry for it: only the key.
        List<String> remembered = dedupeChangelogKeys();
        assertThat(remembered).contains(slowEcho + "\u0000k:" + key);
        assertThat(remembered).noneMatch(k -> k.contains(first) || k.contains(plain));
    }

    /** The keys the dispatcher's dedupe store has committed to its changelog so far. */
    private static List<String> dedupeChangelogKeys() {
        Map<String, Object> settings = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap, ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<String> keys = new java.util.ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(stack.dispatcherId + "-dedupe-changelog").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> keys.add(r.key()));
                return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
            });
        }
        return keys;
    }

    @Test
    void anotherTenantCannotSeeReadFollowOrCancelTheJobsOfATenant() throws Exception {
        String id = submit(stack.gateway, slowEcho, keyA, "private", Map.of());
        for (String path : List.of("/v1/jobs/" + id, "/v1/jobs/" + id + "/result", "/v1/jobs/" + id + "/logs")) {
            HttpResponse<String> response = stack.call("GET", path, keyB, null);
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(json(response).get("message").asText()).isEqualTo("No job " + id + " (jobs are kept 7 days)");
        }
        assertThat(stack.call("DELETE", "/v1/jobs/" + id, keyB, null).statusCode()).isEqualTo(404);
        assertThat(json(stack.call("GET", "/v1/jobs?function=" + slowEcho, keyB, null)).get("jobs")).isEmpty();
        assertThat(json(stack.call("GET", "/v1/jobs?function=" + slowEcho, keyA, null)).get("jobs")).extracting(j -> j.get("jobId").asText())
                .contains(id);
        assertThat(stack.call("GET", "/v1/jobs?status=BOGUS", keyA, null).statusCode()).isEqualTo(400);
    }
}
