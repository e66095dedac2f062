package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.gateway.http.Webhooks;
import io.wharf.secrets.SealedSecrets;

/** Signed webhooks through a gateway with a secrets key: what runs, and what is refused and runs nothing. */
class WebhooksIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "whsec-" + "s3cr3t";
    private static GatewayStack stack;
    private static Gateway keyed;
    private static String admin;
    private static String hook;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        keyed = stack.startGateway(Map.of(SealedSecrets.KEY_SETTING, SealedSecrets.newKey()));
        admin = stack.key("hooks", true);
        hook = "hook-" + stack.suffix;
        HttpResponse<String> deployed = stack.call(keyed, "PUT", "/v1/functions/" + hook, admin,
                "image: " + stack.image + "\ncmd: [cat]\nmemory: 64m\nwebhookSecret: " + SECRET + "\n", Map.of());
        assertThat(deployed.statusCode()).as(deployed.body()).isEqualTo(201);
        assertThat(json(deployed).get("webhookSecret").asText()).isEqualTo("(sealed)");
        assertThat(stack.client.functions().get(hook).getWebhookSecret()).startsWith(SealedSecrets.PREFIX);
    }

    @AfterAll
    static void stop() {
        keyed.close();
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    private static String sign(long t, String body) {
        return "t=" + t + ",v1=" + HexFormat.of().formatHex(Webhooks.hmac(SECRET, (t + "." + body).getBytes(StandardCharsets.UTF_8)));
    }

    private static HttpResponse<String> post(String body, Map<String, String> headers) throws Exception {
        return stack.call(keyed, "POST", "/hooks/" + hook, null, body, headers);
    }

    @Test
    void signedRequestsRunAndEveryOtherIsRefusedAndRunsNothing() throws Exception {
        long now = System.currentTimeMillis() / 1000;
        String body = "{\"event\": \"push\"}";
        HttpResponse<String> valid = post(body, Map.of(Webhooks.SIGNATURE, sign(now, body)));
        assertThat(valid.statusCode()).as(valid.body()).isEqualTo(202);
        String id = valid.headers().firstValue("X-Call-Id").orElseThrow();

        assertThat(post(body, Map.of(Webhooks.SIGNATURE, sign(now, body))).statusCode()).as("replayed").isEqualTo(401);
        assertThat(post(body + " ", Map.of(Webhooks.SIGNATURE, sign(now, body))).statusCode()).as("body changed").isEqualTo(401);
        assertThat(post(body, Map.of()).statusCode()).as("unsigned").isEqualTo(401);
        HttpResponse<String> stale = post(body, Map.of(Webhooks.SIGNATURE, sign(now - 600, body)));
        assertThat(stale.statusCode()).as("stale").isEqualTo(401);
        assertThat(json(stale).get("message").asText()).contains("old");
        assertThat(post(body, Map.of(Webhooks.SIGNATURE, "t=" + now + ",v1=" + "00".repeat(32))).statusCode()).as("wrong").isEqualTo(401);

        String github = "{\"zen\": \"Keep it logically awesome.\"}";
        HttpResponse<String> fromGithub = post(github, Map.of(Webhooks.GITHUB_SIGNATURE,
                "sha256=" + HexFormat.of().formatHex(Webhooks.hmac(SECRET, github.getBytes(StandardCharsets.UTF_8))), "X-GitHub-Delivery", "d-" + stack.suffix,
                "X-GitHub-Event", "ping"));
        assertThat(fromGithub.statusCode()).as(fromGithub.body()).isEqualTo(202);
        String githubId = fromGithub.headers().firstValue("X-Call-Id").orElseThrow();

        await().atMost(Duration.ofSeconds(60)).until(() -> stack.call(keyed, "GET", "/v1/jobs/" + githubId + "/result", admin, null, Map.of())
                .statusCode() == 200);
        assertThat(stack.call(keyed, "GET", "/v1/jobs/" + id + "/result", admin, null, Map.of()).body()).isEqualTo(body);
        assertThat(stack.call(keyed, "GET", "/v1/jobs/" + githubId + "/result", admin, null, Map.of()).body()).isEqualTo(github);
        JsonNode jobs = json(stack.call(keyed, "GET", "/v1/jobs?function=" + hook, admin, null, Map.of())).get("jobs");
        assertThat(jobs).extracting(j -> j.get("jobId").asText()).as("only the two valid requests made jobs").containsExactlyInAnyOrder(id, githubId);
        assertThat(stack.call(keyed, "POST", "/hooks/no-such-hook", null, "x", Map.of()).statusCode()).isEqualTo(404);
        assertThat(List.of(id, githubId)).allMatch(j -> j.startsWith("hook-"));
    }
}
