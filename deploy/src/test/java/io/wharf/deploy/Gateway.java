package io.wharf.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A stack's gateway as its users call it: deploy, call, submit asynchronously, and read jobs' status. */
final class Gateway {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String url;
    private final String key;

    Gateway(String url, String key) {
        this.url = url;
        this.key = key;
    }

    void deploy(String name, String json) throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url + "/v1/functions/" + name)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
        assertThat(response.statusCode()).as(response.body()).isIn(200, 201);
    }

    String call(String function, String body) throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url + "/function/" + function)).POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response.body();
    }

    /** Sends {@code count} asynchronous calls; returns their job ids. */
    List<String> submit(String function, int count) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(url + "/async-function/" + function))
                    .POST(HttpRequest.BodyPublishers.ofString("job " + i)));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            ids.add(response.headers().firstValue("X-Call-Id").orElseThrow());
        }
        return ids;
    }

    void awaitSucceeded(List<String> ids, Duration timeout) {
        for (String id : ids) {
            JsonNode job = await("job " + id + " final").atMost(timeout).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> JSON.readTree(send(HttpRequest.newBuilder(URI.create(url + "/v1/jobs/" + id)).GET()).body()),
                            node -> node.path("final").asBoolean());
            assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED");
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.header("Authorization", "Bearer " + key).timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
