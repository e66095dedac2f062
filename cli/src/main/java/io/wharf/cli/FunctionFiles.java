package io.wharf.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobStatus;
import io.wharf.records.NetworkMode;
import io.wharf.records.RateLimit;
import io.wharf.records.RetryPolicy;

/**
 * Function definitions in YAML or JSON, with the CLI's units:
 * <pre>
 * name: thumbnail
 * image: example/thumbnail:1
 * cmd: [resize, --width, "640"]
 * memory: 256m
 * cpus: 0.5
 * timeout: 30s
 * env: {QUALITY: "80"}
 * pool: default
 * network: none
 * user: "65534:65534"
 * tenant: acme          # its events must name it; `wharf tenant` sets limits shared by a tenant's functions
 * rate: 10/s            # token bucket: rate and burst
 * burst: 20
 * maxConcurrency: 4     # jobs running at once
 * maxPending: 10000     # events held back at most, then THROTTLED
 * priority: 1           # 0 high .. 2 low
 * maxAge: 10m           # EXPIRED if it would start later than this after its event
 * retry: {maxAttempts: 5, backoff: 1s, maxBackoff: 1m, multiplier: 2, jitter: 0.2, onExitCodes: [75], onStatuses: [FAILED, TIMED_OUT]}
 * onSuccess: [next-function]
 * onFailure: [alert]
 * contentTypes: [application/json]
 * </pre>
 */
final class FunctionFiles {
    private static final List<String> KEYS = List.of("name", "image", "cmd", "memory", "cpus", "timeout", "env", "pool", "network", "user",
            "tenant", "rate", "burst", "maxConcurrency", "maxPending", "priority", "maxAge", "retry", "onSuccess", "onFailure", "contentTypes");
    private static final List<String> RETRY_KEYS = List.of("maxAttempts", "backoff", "maxBackoff", "multiplier", "jitter", "onExitCodes", "onStatuses");

    private FunctionFiles() {
    }

    static FunctionSpec.Builder read(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory()); // YAML is a superset of JSON
        JsonNode node = mapper.readTree(file.toFile());
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(file + " does not hold a function definition (a map with name, image, ...)");
        }
        node.fieldNames().forEachRemaining(key -> {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException(file + ": unknown key '" + key + "'; known keys are " + KEYS);
            }
        });
        FunctionSpec.Builder spec = FunctionSpec.newBuilder();
        if (node.hasNonNull("name")) spec.setName(node.get("name").asText());
        if (node.hasNonNull("image")) spec.setImage(node.get("image").asText());
        if (node.has("cmd")) spec.setCommand(mapper.convertValue(node.get("cmd"), mapper.getTypeFactory().constructCollectionType(List.class, String.class)));
        if (node.hasNonNull("memory")) spec.setMemoryMb(Units.megabytes("memory", node.get("memory").asText()));
        if (node.hasNonNull("cpus")) spec.setCpus(node.get("cpus").asDouble());
        if (node.hasNonNull("timeout")) spec.setTimeoutMillis(Units.duration("timeout", node.get("timeout").asText()).toMillis());
        if (node.has("env")) spec.setEnv(mapper.convertValue(node.get("env"), mapper.getTypeFactory().constructMapType(Map.class, String.class, String.class)));
        if (node.hasNonNull("pool")) spec.setPool(node.get("pool").asText());
        if (node.hasNonNull("user")) spec.setUser(node.get("user").asText());
        if (node.hasNonNull("network")) spec.setNetwork(network("network", node.get("network").asText()));
        if (node.hasNonNull("tenant")) spec.setTenant(node.get("tenant").asText());
        if (node.hasNonNull("rate")) spec.setRateLimit(RateLimit.newBuilder().setPerSecond(Units.perSecond("rate", node.get("rate").asText()))
                .setBurst(node.hasNonNull("burst") ? node.get("burst").asInt() : 1).build());
        else if (node.hasNonNull("burst")) throw new IllegalArgumentException(file + ": `burst` needs a `rate`");
        if (node.hasNonNull("maxConcurrency")) spec.setMaxConcurrency(node.get("maxConcurrency").asInt());
        if (node.hasNonNull("maxPending")) spec.setMaxPending(node.get("maxPending").asInt());
        if (node.hasNonNull("priority")) spec.setPriority(node.get("priority").asInt());
        if (node.hasNonNull("maxAge")) spec.setMaxJobAgeMillis(Units.duration("maxAge", node.get("maxAge").asText()).toMillis());
        if (node.has("onSuccess")) spec.setOnSuccess(strings(mapper, node.get("onSuccess")));
        if (node.has("onFailure")) spec.setOnFailure(strings(mapper, node.get("onFailure")));
        if (node.has("contentTypes")) spec.setContentTypes(strings(mapper, node.get("contentTypes")));
        if (node.hasNonNull("retry")) spec.setRetry(retry(file, mapper, node.get("retry")));
        return spec;
    }

    private static List<String> strings(ObjectMapper mapper, JsonNode node) {
        return node.isTextual() ? List.of(node.asText()) : mapper.convertValue(node, mapper.getTypeFactory().constructCollectionType(List.class, String.class));
    }

    private static RetryPolicy retry(Path file, ObjectMapper mapper, JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(file + ": `retry` is a map with keys " + RETRY_KEYS);
        }
        node.fieldNames().forEachRemaining(key -> {
            if (!RETRY_KEYS.contains(key)) {
                throw new IllegalArgumentException(file + ": unknown key 'retry." + key + "'; known keys are " + RETRY_KEYS);
            }
        });
        RetryPolicy.Builder retry = RetryPolicy.newBuilder();
        if (node.hasNonNull("maxAttempts")) retry.setMaxAttempts(node.get("maxAttempts").asInt());
        if (node.hasNonNull("backoff")) retry.setInitialBackoffMillis(Units.duration("retry.backoff", node.get("backoff").asText()).toMillis());
        if (node.hasNonNull("maxBackoff")) retry.setMaxBackoffMillis(Units.duration("retry.maxBackoff", node.get("maxBackoff").asText()).toMillis());
        if (node.hasNonNull("multiplier")) retry.setMultiplier(node.get("multiplier").asDouble());
        if (node.hasNonNull("jitter")) retry.setJitter(node.get("jitter").asDouble());
        if (node.has("onExitCodes")) retry.setRetryOnExitCodes(mapper.convertValue(node.get("onExitCodes"),
                mapper.getTypeFactory().constructCollectionType(List.class, Integer.class)));
        if (node.has("onStatuses")) retry.setRetryOnStatuses(strings(mapper, node.get("onStatuses")).stream().map(s -> status("retry.onStatuses", s)).toList());
        return retry.build();
    }

    static String status(String option, String value) {
        try {
            return JobStatus.valueOf(value.strip().toUpperCase()).name();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a job status: use FAILED, TIMED_OUT or OOM_KILLED");
        }
    }

    static NetworkMode network(String option, String value) {
        try {
            return NetworkMode.valueOf(value.strip().toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a network mode: use none or host");
        }
    }
}
