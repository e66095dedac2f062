package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.records.HttpResponseMode;
import io.wharf.records.RateLimit;

/** Synchronous calls through a real gateway, dispatcher, worker and Docker engine: what the caller sends, sees and gets. */
class SyncCallsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayStack stack;
    private static String keyA;
    private static String keyB;
    private static String echo;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        keyA = stack.key("tenant-a", false);
        keyB = stack.key("tenant-b", false);
        echo = stack.deploy("echo", "tenant-a", f -> f.setCommand(List.of("sh", "-c",
                "echo \"$WHARF_HTTP_METHOD $WHARF_HTTP_PATH $WHARF_HTTP_QUERY $WHARF_HTTP_HEADER_X_TEST\"; cat")));
    }

    @Test
    void theContainerSeesMethodPathQueryAHeaderAndTheBodyAndTheResponseIsItsOutput() throws Exception {
        for (String method : List.of("GET", "POST", "PUT", "DELETE")) {
            String body = method.equals("GET") ? null : "body of " + method;
            HttpResponse<String> response = stack.call(stack.gateway, method, "/function/" + echo + "/orders/42?expand=items&x=1", keyA, body,
                    GatewayStack.headers("X-Test", "hello " + method));
            assertThat(response.statusCode()).as(method).isEqualTo(200);
            assertThat(response.body()).isEqualTo(method + " /orders/42 expand=items&x=1 hello " + method + "\n" + (body == null ? "" : body));
            assertThat(response.headers().firstValue("X-Call-Id")).isPresent();
        }
    }

    @Test
    void aWarmContainerReadsEachCallsRequestFromTheFileItIsGiven() throws Exception {
        String warm = stack.deploy("warm", "tenant-a", f -> f.setHot(io.wharf.records.HotSettings.newBuilder().build()).setCommand(List.of("sh", "-c", """
                exec 3<"$WHARF_HOT_IN" 4>"$WHARF_HOT_OUT"
                while read -r id payload <&3; do
                  out=$( (. "$WHARF_HOT_REQUEST"; printf '%s %s %s' "$WHARF_HTTP_METHOD" "$WHARF_HTTP_PATH" "$WHARF_HTTP_HEADER_X_TEST") | base64 | tr -d '\n')
                  echo "$id 0 $out" >&4
                done
                """)));
        for (String path : List.of("/first", "/second")) {
            HttpResponse<String> response = stack.call(stack.gateway, "PUT", "/function/" + warm + path, keyA, "x", GatewayStack.headers("X-Test", path));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("PUT " + path + " " + path);
            String state = stack.call("GET", "/v1/jobs/" + response.headers().firstValue("X-Call-Id").orElseThrow(), keyA, null).body();
            assertThat(state).as("the state once its call answered").contains("\"status\":\"SUCCEEDED\"");
        }
    }

    @Test
    void aCgiStyleFunctionSetsItsStatusAndContentType() throws Exception {
        String cgi = stack.deploy("cgi", "tenant-a", f -> f.setHttpResponse(HttpResponseMode.CGI).setCommand(List.of("sh", "-c",
                "printf 'Status: 201 Created\\nContent-Type: application/json\\nX-Made-By: sh\\n\\n{\"made\": true}'")));
        HttpResponse<String> response = stack.call("POST", "/function/" + cgi, keyA, "{}");
        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(response.headers().firstValue("X-Made-By")).hasValue("sh");
        assertThat(response.body()).isEqualTo("{\"made\": true}");
    }

    @Test
    void aFailingFunctionIs502WithItsExitCodeAndStderrTail() throws Exception {
        String failing = stack.deploy("fails", "tenant-a", f -> f.setCommand(List.of("sh", "-c", "echo 'disk on fire' >&2; exit 3")));
        HttpResponse<String> response = stack.call("POST", "/function/" + failing, keyA, "x");
        assertThat(response.statusCode()).isEqualTo(502);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("status").asText()).isEqualTo("FAILED");
        assertThat(body.get("exitCode").asInt()).isEqualTo(3);
        assertThat(body.get("stderrTail").asText()).contains("disk on fire");
        assertThat(body.get("jobId").asText()).isEqualTo(response.headers().firstValue("X-Call-Id").orElseThrow());
    }

    @Test
    void aFunctionKilledForItsMemoryIs502NamingTheLimit() throws Exception {
        String hungry = stack.deploy("hungry", "tenant-a", f -> f.setMemoryMb(16)
                .setCommand(List.of("sh", "-c", "(x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}); exit 0")));
        HttpResponse<String> response = stack.call("POST", "/function/" + hungry, keyA, "x");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(502);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.get("status").asText()).isEqualTo("OOM_KILLED");
        assertThat(body.get("reason").asText()).contains("16 MiB");
    }

    @Test
    void aFunctionPastItsTimeoutIs504() throws Exception {
        String slow = stack.deploy("slow", "tenant-a", f -> f.setTimeoutMillis(1_000).setCommand(List.of("sleep", "30")));
        HttpResponse<String> response = stack.call("GET", "/function/" + slow, keyA, null);
        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(JSON.readTree(response.body()).get("status").asText()).isEqualTo("TIMED_OUT");
    }

    @Test
    void aFunctionAtItsRateLimitIs429WithRetryAfter() throws Exception {
        String limited = stack.deploy("limited", "tenant-a", f -> f.setRateLimit(RateLimit.newBuilder().setPerSecond(1 / 60.0).setBurst(1).build())
                .setMaxPending(0).setCommand(List.of("cat")));
        assertThat(stack.call("POST", "/function/" + limited, keyA, "first").statusCode()).isEqualTo(200);
        HttpResponse<String> second = stack.call("POST", "/function/" + limited, keyA, "second");
        assertThat(second.statusCode()).isEqualTo(429);
        assertThat(second.headers().firstValue("Retry-After")).hasValue("60");
        assertThat(JSON.readTree(second.body()).get("status").asText()).isEqualTo("THROTTLED");
    }

    @Test
    void anUnknownFunctionAndAnotherTenantsFunctionAreBoth404() throws Exception {
        HttpResponse<String> unknown = stack.call("GET", "/function/no-such-function", keyA, null);
        HttpResponse<String> others = stack.call("GET", "/function/" + echo, keyB, null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(others.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(others.body()).get("message").asText()).isEqualTo("No function " + echo + " (`wharf functions` lists them)");
        assertThat(stack.call("POST", "/async-function/" + echo, keyB, "x").statusCode()).isEqualTo(404);
    }

    @Test
    void aBodyOverTheFunctionsLimitIs413AndRunsNothing() throws Exception {
        String small = stack.deploy("small", "tenant-a", f -> f.setMaxPayloadBytes(1024).setCommand(List.of("cat")));
        HttpResponse<String> response = stack.call("POST", "/function/" + small, keyA, "x".repeat(2048));
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(JSON.readTree(response.body()).get("message").asText()).contains("1024 bytes").contains("maxPayload");
        assertThat(stack.call("POST", "/function/" + small, keyA, "x".repeat(1024)).statusCode()).isEqualTo(200);
    }

    @Test
    void noKeyOrABadKeyIs401() throws Exception {
        HttpResponse<String> none = stack.call("GET", "/function/" + echo, null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(none.body()).get("message").asText()).contains("Authorization: Bearer");
        assertThat(stack.call("GET", "/function/" + echo, "wharf_000000000000_" + "A".repeat(43), null).statusCode()).isEqualTo(401);
        String revoked = stack.client.issueApiKey("tenant-a", false, "to revoke").key();
        assertThat(stack.call("GET", "/function/" + echo, revoked, null).statusCode()).isEqualTo(200);
        stack.client.revokeApiKey(revoked.substring(6, 18));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> stack.call("GET", "/function/" + echo, revoked, null).statusCode() == 401);
        assertThat(stack.call("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
    }

    @Test
    void asyncAnswers202WithTheJobIdAndWhereItsStatusIs() throws Exception {
        // A request that names another tenant is still the key's tenant's.
        HttpResponse<String> response = stack.call(stack.gateway, "POST", "/async-function/" + echo + "/later?tenant=tenant-b", keyA, "payload",
                GatewayStack.headers("X-Wharf-Tenant", "tenant-b"));
        assertThat(response.statusCode()).isEqualTo(202);
        String id = JSON.readTree(response.body()).get("jobId").asText();
        assertThat(response.headers().firstValue("X-Call-Id")).hasValue(id);
        assertThat(response.headers().firstValue("Location")).hasValue("/v1/jobs/" + id);
        assertThat(JSON.readTree(stack.call("GET", "/v1/jobs/" + id, keyA, null).body()).get("tenant").asText()).isEqualTo("tenant-a");
        assertThat(stack.call("GET", "/v1/jobs/" + id, keyB, null).statusCode()).isEqualTo(404);
    }
}
