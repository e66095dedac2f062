package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.gateway.http.HttpApi;

/** The management API through a real gateway: functions, schedules, tenants, dead letters, and the OpenAPI document. */
class ManagementIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GatewayStack stack;
    private static String keyA;
    private static String keyB;
    private static String admin;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        keyA = stack.key("tenant-a", false);
        keyB = stack.key("tenant-b", false);
        admin = stack.key("ops", true);
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    private static HttpResponse<String> put(String path, String key, String body) throws Exception {
        return stack.call("PUT", path, key, body);
    }

    @Test
    void aTenantDeploysCallsListsAndDeletesItsFunctionWithTheKeysOfDeployFile() throws Exception {
        String name = "managed-" + stack.suffix;
        HttpResponse<String> created = put("/v1/functions/" + name, keyA, "image: " + stack.image + "\ncmd: [sh, -c, 'echo managed $(cat)']\n"
                + "memory: 64m\ntimeout: 20s\n");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(json(created).get("tenant").asText()).isEqualTo("tenant-a");
        assertThat(stack.call("POST", "/function/" + name, keyA, "hi").body()).isEqualTo("managed hi\n");
        assertThat(put("/v1/functions/" + name, keyA, "image: " + stack.image + "\ncmd: [sh, -c, 'echo v2']\n").statusCode()).isEqualTo(200);
        assertThat(json(stack.call("GET", "/v1/functions/" + name, keyA, null)).get("command").toString()).contains("echo v2");
        assertThat(json(stack.call("GET", "/v1/functions", keyA, null)).get("functions")).extracting(f -> f.get("name").asText()).contains(name);

        assertThat(json(stack.call("GET", "/v1/functions", keyB, null)).get("functions")).extracting(f -> f.get("name").asText()).doesNotContain(name);
        assertThat(stack.call("GET", "/v1/functions/" + name, keyB, null).statusCode()).isEqualTo(404);
        assertThat(stack.call("DELETE", "/v1/functions/" + name, keyB, null).statusCode()).isEqualTo(404);
        assertThat(put("/v1/functions/" + name, keyB, "image: " + stack.image).statusCode()).isEqualTo(409);
        assertThat(put("/v1/functions/other-" + stack.suffix, keyB, "image: x\ntenant: tenant-a").statusCode()).isEqualTo(403);

        HttpResponse<String> bad = put("/v1/functions/bad-" + stack.suffix, keyA, "image: x\nmemroy: 64m");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).get("message").asText()).contains("memroy");
        HttpResponse<String> secret = put("/v1/functions/secret-" + stack.suffix, keyA, "image: x\nsecretEnv: {TOKEN: abc}");
        assertThat(secret.statusCode()).isEqualTo(400);
        assertThat(json(secret).get("message").asText()).contains("wharf.secrets.key");

        assertThat(stack.call("DELETE", "/v1/functions/" + name, keyA, null).statusCode()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(10)).until(() -> stack.call("POST", "/function/" + name, keyA, "x").statusCode() == 404);
    }

    @Test
    void schedulesBelongToTheirFunctionsTenant() throws Exception {
        String function = stack.deploy("scheduled", "tenant-a", f -> f.setCommand(List.of("cat")));
        String id = "every-hour-" + stack.suffix;
        HttpResponse<String> made = put("/v1/schedules/" + id, keyA, "{\"function\": \"" + function + "\", \"cron\": \"0 * * * *\", \"data\": \"tick\"}");
        assertThat(made.statusCode()).as(made.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> json(stack.call("GET", "/v1/schedules", keyA, null)).get("schedules").toString().contains(id));
        assertThat(json(stack.call("GET", "/v1/schedules", keyB, null)).get("schedules").toString()).doesNotContain(id);
        assertThat(put("/v1/schedules/x-" + stack.suffix, keyB, "{\"function\": \"" + function + "\", \"cron\": \"0 * * * *\"}").statusCode())
                .isEqualTo(404);
        assertThat(stack.call("DELETE", "/v1/schedules/" + id, keyB, null).statusCode()).isEqualTo(404);
        HttpResponse<String> never = put("/v1/schedules/never-" + stack.suffix, keyA, "{\"function\": \"" + function + "\", \"cron\": \"0 0 30 2 *\"}");
        assertThat(never.statusCode()).isEqualTo(400);
        assertThat(stack.call("DELETE", "/v1/schedules/" + id, keyA, null).statusCode()).isEqualTo(204);
    }

    @Test
    void tenantsLimitsAreSetByAdminsAndReadByTheirTenant() throws Exception {
        String tenant = "limited-" + stack.suffix;
        String own = stack.key(tenant, false);
        assertThat(put("/v1/tenants/" + tenant, own, "{\"rate\": \"5/s\"}").statusCode()).isEqualTo(403);
        HttpResponse<String> set = put("/v1/tenants/" + tenant, admin, "{\"rate\": \"5/s\", \"burst\": 2, \"maxConcurrency\": 3}");
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> json(stack.call("GET", "/v1/tenants", own, null)).get("tenants").size() == 1);
        assertThat(json(stack.call("GET", "/v1/tenants", own, null)).get("tenants").get(0).get("maxConcurrency").asInt()).isEqualTo(3);
        assertThat(json(stack.call("GET", "/v1/tenants", keyA, null)).get("tenants").toString()).doesNotContain(tenant);
        assertThat(stack.call("DELETE", "/v1/tenants/" + tenant, admin, null).statusCode()).isEqualTo(204);
        assertThat(stack.call("GET", "/v1/dlq", keyA, null).statusCode()).isEqualTo(403);
    }

    @Test
    void aRefusedEventIsListedInTheDeadLetterTopicAndReplayedOnceItsFunctionIsFixed() throws Exception {
        String name = "strict-" + stack.suffix;
        put("/v1/functions/" + name, keyA, "image: " + stack.image + "\ncmd: [cat]\ncontentTypes: [application/json]\n");
        HttpResponse<String> call = stack.call(stack.gateway, "POST", "/async-function/" + name, keyA, "{not json", Map.of("Content-Type", "application/json"));
        String id = json(call).get("jobId").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> json(stack.call("GET", "/v1/jobs/" + id, keyA, null)).get("status").asText().equals("REJECTED"));
        await().atMost(Duration.ofSeconds(30)).until(() -> json(stack.call("GET", "/v1/dlq?limit=1000", admin, null)).get("deadLetters").toString().contains(id));
        put("/v1/functions/" + name, keyA, "image: " + stack.image + "\ncmd: [cat]\n");
        HttpResponse<String> replay = stack.call("POST", "/v1/dlq/" + id + "/replay", admin, null);
        assertThat(replay.statusCode()).as(replay.body()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> json(stack.call("GET", "/v1/jobs/" + id, keyA, null)).get("status").asText().equals("SUCCEEDED"));
        assertThat(stack.call("GET", "/v1/jobs/" + id + "/result", keyA, null).body()).isEqualTo("{not json");
    }

    @Test
    void theOpenApiDocumentListsExactlyTheRoutesServed() throws Exception {
        HttpResponse<String> response = stack.call("GET", "/openapi.json", null, null);
        assertThat(response.statusCode()).isEqualTo(200);
        Set<HttpApi.Route> documented = new HashSet<>();
        JsonNode paths = json(response).get("paths");
        for (Iterator<Map.Entry<String, JsonNode>> it = paths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> path = it.next();
            path.getValue().fieldNames().forEachRemaining(method -> documented.add(new HttpApi.Route(method, path.getKey())));
        }
        assertThat(documented).containsExactlyInAnyOrderElementsOf(stack.gateway.routes());
    }
}
