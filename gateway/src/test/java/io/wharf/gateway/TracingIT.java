package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.opentelemetry.sdk.trace.data.SpanData;
import io.wharf.records.Event;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.topics.Topics;

/**
 * A W3C trace context goes from the caller through every hop: the gateway's span, the dispatcher's, the worker's
 * queue, run and result spans, the container's TRACEPARENT (a fresh and a warm one), the result and the job's state,
 * all in one trace; an event written straight to Kafka with a {@code traceparent} record header joins its trace too.
 */
class TracingIT {
    private static GatewayStack stack;
    private static String adminKey;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        adminKey = stack.key("default", true);
    }

    private static String traceId() {
        return UUID.randomUUID().toString().replace("-", "");
    }

    private static List<SpanData> spansOf(String traceId, int atLeast) {
        return await().atMost(Duration.ofSeconds(30)).until(
                () -> stack.spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList(), l -> l.size() >= atLeast);
    }

    private static SpanData named(List<SpanData> spans, String prefix) {
        Optional<SpanData> span = spans.stream().filter(s -> s.getName().startsWith(prefix)).findFirst();
        assertThat(span).as("a span named " + prefix + " among " + spans.stream().map(SpanData::getName).toList()).isPresent();
        return span.get();
    }

    @Test
    void aCallsTraceparentReachesTheContainerTheResultTheStateAndEverySpan() throws Exception {
        String fn = stack.deploy("traced", "default", spec -> spec.setCommand(List.of("sh", "-c", "printf %s \"$TRACEPARENT\"")));
        String trace = traceId();
        String callerSpan = "00f067aa0ba902b7";
        var response = stack.call(stack.gateway, "POST", "/function/" + fn, adminKey, "x",
                Map.of("traceparent", "00-" + trace + "-" + callerSpan + "-01"));
        assertThat(response.statusCode()).isEqualTo(200);
        String inContainer = response.body();
        assertThat(inContainer).as("the container's TRACEPARENT").matches("00-" + trace + "-[0-9a-f]{16}-01");

        List<SpanData> spans = spansOf(trace, 5); // the gateway's, dispatch, queue, run, result
        SpanData server = named(spans, "POST /function/");
        SpanData dispatch = named(spans, "dispatch " + fn);
        SpanData run = named(spans, "run " + fn);
        assertThat(server.getParentSpanId()).as("the caller's span").isEqualTo(callerSpan);
        assertThat(dispatch.getParentSpanId()).isEqualTo(server.getSpanId());
        for (String child : List.of("queue ", "run ", "result ")) {
            assertThat(named(spans, child + fn).getParentSpanId()).as(child + "span").isEqualTo(dispatch.getSpanId());
        }
        assertThat(inContainer).as("the container is given the run span's context").contains(run.getSpanId());
        assertThat(run.getAttributes().asMap().toString()).contains("wharf.status=SUCCEEDED");

        String jobId = response.headers().firstValue("X-Call-Id").orElseThrow();
        JobResult result = stack.client.result(jobId, Instant.now().minusSeconds(120)).orElseThrow();
        assertThat(result.getTraceparent()).isEqualTo(inContainer);
        JobState state = await().atMost(Duration.ofSeconds(20)).until(() -> stack.client.state(jobId).orElse(null), s -> s != null && s.getDone());
        assertThat(state.getTraceparent()).isEqualTo(inContainer);
        assertThat(stack.call("GET", "/v1/jobs/" + jobId, adminKey, null).body()).contains("\"traceparent\":\"" + inContainer + "\"");
    }

    @Test
    void aWarmContainerGetsEachJobsOwnTraceparent() throws Exception {
        String script = "exec 3<\"$WHARF_HOT_IN\" 4>\"$WHARF_HOT_OUT\"\n"
                + "while read -r id payload <&3; do . \"$WHARF_HOT_REQUEST\"; echo \"$id 0 $(printf %s \"$TRACEPARENT\" | base64 -w 0)\" >&4; done\n";
        String fn = stack.deploy("traced-warm", "default", spec -> spec.setCommand(List.of("sh", "-c", script))
                .setHot(HotSettings.newBuilder().setMaxJobsPerContainer(100).build()));
        for (int i = 0; i < 2; i++) {
            String trace = traceId();
            var response = stack.call(stack.gateway, "POST", "/function/" + fn, adminKey, "x", Map.of("traceparent", "00-" + trace + "-00f067aa0ba902b7-01"));
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).as("job " + i + " on the warm container").startsWith("00-" + trace + "-");
        }
    }

    @Test
    void anEventWrittenToKafkaWithATraceparentHeaderJoinsThatTrace() throws Exception {
        String fn = stack.deploy("traced-kafka", "default", spec -> spec.setCommand(List.of("sh", "-c", "printf %s \"$TRACEPARENT\"")));
        String trace = traceId();
        Event event = stack.client.event(fn, "x".getBytes(StandardCharsets.UTF_8), "text/plain");
        try (KafkaProducer<String, Event> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrap),
                new StringSerializer(), new AvroSerializer<>(new HttpSchemaRegistryClient(stack.registry)))) {
            ProducerRecord<String, Event> record = new ProducerRecord<>(Topics.EVENTS, fn, event);
            record.headers().add("traceparent", ("00-" + trace + "-b7ad6b7169203331-01").getBytes(StandardCharsets.UTF_8));
            producer.send(record).get();
        }
        JobResult result = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> stack.client.result(event.getId(), Instant.now().minusSeconds(120)).orElse(null), r -> r != null);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody().duplicate()).toString()).startsWith("00-" + trace + "-");
        assertThat(named(spansOf(trace, 4), "dispatch " + fn).getParentSpanId()).isEqualTo("b7ad6b7169203331");
    }
}
