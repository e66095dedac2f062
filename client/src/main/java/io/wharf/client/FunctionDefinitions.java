package io.wharf.client;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.HttpResponseMode;
import io.wharf.records.JobStatus;
import io.wharf.records.NetworkMode;
import io.wharf.records.Ordering;
import io.wharf.records.RateLimit;
import io.wharf.records.RetryPolicy;
import io.wharf.rules.FunctionRules;

/**
 * The one mapping from a function's settings, in the units people write, to a {@link FunctionSpec}: YAML or
 * JSON files ({@code wharf deploy -f}), command-line flags (turned into the same keys) and, later, the HTTP API
 * all go through {@link #apply}. Keys, with an example each:
 * <pre>
 * name: thumbnail
 * image: example/thumbnail:1
 * cmd: [resize, --width, "640"]        # overrides the image's CMD
 * entrypoint: [/bin/sh, -c]            # overrides the image's ENTRYPOINT
 * memory: 256m
 * cpus: 0.5
 * timeout: 30s
 * env: {QUALITY: "80"}
 * secretEnv: {API_TOKEN: "..."}        # sealed by `wharf deploy` (WHARF_SECRETS_KEY) before it reaches Kafka
 * pool: default
 * network: none                        # or host
 * user: "65534:65534"
 * tenant: acme                         # its events must name it; `wharf tenant` sets limits shared by a tenant's functions
 * rate: 10/s                           # token bucket: rate and burst
 * burst: 20
 * maxConcurrency: 4                    # jobs running at once
 * maxPending: 10000                    # events held back at most, then THROTTLED
 * priority: 1                          # 0 high .. 2 low
 * maxAge: 10m                          # EXPIRED if it would start later than this after its event
 * maxPayload: 6m                       # larger events are REJECTED
 * ordering: key                        # none (default) or key: one key's jobs run one after another
 * hot: {idleTtl: 60s, maxJobsPerContainer: 1000, prewarm: 1}   # warm containers between jobs
 * enabled: true                        # false refuses its events
 * retry: {maxAttempts: 5, backoff: 1s, maxBackoff: 1m, multiplier: 2, jitter: 0.2, onExitCodes: [75], onStatuses: [FAILED, TIMED_OUT]}
 * onSuccess: [next-function]
 * onFailure: [alert]
 * contentTypes: [application/json]
 * webhookSecret: "..."                # POST /hooks/NAME takes requests signed with it; sealed like secretEnv
 * httpPort: 8080                       # an unchanged web-server image: each request is forwarded to this port in its container
 * httpResponse: cgi                    # body (default): the gateway answers 200 with the output; cgi: the output may begin with headers
 * payloadKey: |                        # an RSA public key (PEM): payloads are sealed to it before they reach Kafka
 *   -----BEGIN PUBLIC KEY-----
 * </pre>
 * An unknown key, or a value that does not parse, is an error naming the key, the value and where it came from.
 */
public final class FunctionDefinitions {
    public static final List<String> KEYS = List.of("name", "image", "cmd", "entrypoint", "memory", "cpus", "timeout", "env", "secretEnv", "pool", "network",
            "user", "tenant", "rate", "burst", "maxConcurrency", "maxPending", "priority", "maxAge", "maxPayload", "ordering", "hot", "enabled",
            "retry", "onSuccess", "onFailure", "contentTypes", "httpResponse", "webhookSecret", "httpPort", "payloadKey");
    public static final List<String> RETRY_KEYS = List.of("maxAttempts", "backoff", "maxBackoff", "multiplier", "jitter", "onExitCodes", "onStatuses");
    public static final List<String> HOT_KEYS = List.of("idleTtl", "maxJobsPerContainer", "prewarm");
    /** The most CPUs a function may ask for: more is a typo, not a job. */
    static final double MAX_CPUS = FunctionRules.MAX_CPUS;
    /** The longest timeout a function may have. */
    static final java.time.Duration MAX_TIMEOUT = FunctionRules.MAX_TIMEOUT;
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()); // YAML is a superset of JSON

    private FunctionDefinitions() {
    }

    /** Empty settings, to fill from flags with the keys above. */
    public static ObjectNode settings() {
        return YAML.createObjectNode();
    }

    /** The settings in a YAML or JSON file. */
    public static ObjectNode read(Path file) throws IOException {
        JsonNode node = YAML.readTree(file.toFile());
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(file + " does not hold a function definition (a map with name, image, ...)");
        }
        return (ObjectNode) node;
    }

    /** The settings in YAML or JSON text (an HTTP request's body); {@code source} names it in errors. */
    public static ObjectNode parse(String text, String source) {
        JsonNode node;
        try {
            node = YAML.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(source + " is neither YAML nor JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(source + " does not hold a function definition (a map with name, image, ...)");
        }
        return (ObjectNode) node;
    }

    /**
     * Applies {@code settings} over {@code spec}: what they name replaces what the spec had, except {@code env},
     * {@code retry} and {@code hot}, whose entries are merged in.
     *
     * @param source where the settings come from, for error messages (a file name, "flags")
     */
    public static FunctionSpec.Builder apply(FunctionSpec.Builder spec, JsonNode settings, String source) {
        new Reader(source).apply(spec, settings);
        return spec;
    }

    /** A job status name, as retry policies take them. */
    private static String status(String key, String value) {
        try {
            return JobStatus.valueOf(value.strip().toUpperCase(Locale.ROOT)).name();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " '" + value + "' is not a job status: use FAILED, TIMED_OUT or OOM_KILLED");
        }
    }

    /** Reads one source's values, naming it in every error. */
    private record Reader(String source) {

        void apply(FunctionSpec.Builder spec, JsonNode node) {
            known(node, KEYS, "");
            text(node, "name").ifPresent(spec::setName);
            text(node, "image").ifPresent(spec::setImage);
            if (node.has("cmd")) spec.setCommand(strings(node, "cmd"));
            if (node.has("entrypoint")) spec.setEntrypoint(node.get("entrypoint").isNull() ? null : strings(node, "entrypoint"));
            text(node, "memory").ifPresent(v -> spec.setMemoryMb(Units.megabytes(key("memory"), v)));
            if (node.hasNonNull("cpus")) spec.setCpus(cpus(node));
            text(node, "timeout").ifPresent(v -> spec.setTimeoutMillis(timeout(v)));
            if (node.hasNonNull("env")) spec.setEnv(variables(node, "env", spec.hasEnv() ? spec.getEnv() : Map.of()));
            if (node.hasNonNull("secretEnv")) spec.setSecretEnv(variables(node, "secretEnv", spec.hasSecretEnv() ? spec.getSecretEnv() : Map.of()));
            if (spec.hasEnv() && spec.hasSecretEnv()) {
                spec.getEnv().keySet().stream().filter(spec.getSecretEnv()::containsKey).findFirst().ifPresent(name -> {
                    throw bad("secretEnv", name, "a variable is either in env or in secretEnv, not both");
                });
            }
            text(node, "pool").ifPresent(spec::setPool);
            text(node, "network").ifPresent(v -> spec.setNetwork(choice(NetworkMode.class, "network", v, "none or host")));
            text(node, "user").ifPresent(spec::setUser);
            text(node, "tenant").ifPresent(spec::setTenant);
            rate(spec, node);
            if (node.hasNonNull("maxConcurrency")) spec.setMaxConcurrency(whole(node, "maxConcurrency", 1));
            if (node.hasNonNull("maxPending")) spec.setMaxPending(whole(node, "maxPending", 0));
            if (node.hasNonNull("priority")) {
                int priority = whole(node, "priority", 0);
                if (priority > 2) {
                    throw bad("priority", node.get("priority").asText(), "use 0 (high), 1 or 2 (low)");
                }
                spec.setPriority(priority);
            }
            text(node, "maxAge").ifPresent(v -> spec.setMaxJobAgeMillis(Units.duration(key("maxAge"), v).toMillis()));
            text(node, "maxPayload").ifPresent(v -> spec.setMaxPayloadBytes(Units.bytes(key("maxPayload"), v)));
            text(node, "ordering").ifPresent(v -> spec.setOrdering(choice(Ordering.class, "ordering", v, "none or key")));
            if (node.hasNonNull("hot")) spec.setHot(hot(spec.hasHot() ? spec.getHot() : null, node.get("hot")));
            if (node.hasNonNull("enabled")) spec.setEnabled(bool(node, "enabled"));
            if (node.hasNonNull("retry")) spec.setRetry(retry(spec.hasRetry() ? spec.getRetry() : null, node.get("retry")));
            if (node.has("onSuccess")) spec.setOnSuccess(strings(node, "onSuccess"));
            if (node.has("onFailure")) spec.setOnFailure(strings(node, "onFailure"));
            if (node.has("contentTypes")) spec.setContentTypes(strings(node, "contentTypes"));
            text(node, "webhookSecret").ifPresent(spec::setWebhookSecret);
            if (node.hasNonNull("httpPort")) spec.setHttpPort(whole(node, "httpPort", 1));
            text(node, "payloadKey").ifPresent(v -> {
                try {
                    io.wharf.secrets.PayloadEnvelope.publicKey(v);
                } catch (IllegalArgumentException e) {
                    throw bad("payloadKey", v.length() > 40 ? v.substring(0, 40) + "..." : v, e.getMessage());
                }
                spec.setPayloadKey(v.strip());
            });
            text(node, "httpResponse").ifPresent(v -> spec.setHttpResponse(choice(HttpResponseMode.class, "httpResponse", v, "body or cgi")));
        }

        /** {@code current} with the map under {@code key} merged in (the names are checked with the rest, by FunctionRules). */
        private Map<String, String> variables(JsonNode node, String key, Map<String, String> current) {
            if (!node.get(key).isObject()) {
                throw bad(key, node.get(key).toString(), "give a map of NAME: value");
            }
            Map<String, String> env = new LinkedHashMap<>(current);
            node.get(key).fields().forEachRemaining(e -> {
                if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                    throw bad(key + "." + e.getKey(), key.equals("secretEnv") ? "(hidden)" : e.getValue().toString(),
                            "a value is text (quote numbers and booleans)");
                }
                env.put(e.getKey(), e.getValue().asText());
            });
            return env;
        }

        private void rate(FunctionSpec.Builder spec, JsonNode node) {
            RateLimit current = spec.hasRateLimit() ? spec.getRateLimit() : null;
            if (node.hasNonNull("rate")) {
                double perSecond = Units.perSecond(key("rate"), node.get("rate").asText());
                int burst = node.hasNonNull("burst") ? whole(node, "burst", 1) : current != null ? current.getBurst() : 1;
                spec.setRateLimit(RateLimit.newBuilder().setPerSecond(perSecond).setBurst(burst).build());
            } else if (node.hasNonNull("burst")) {
                if (current == null) {
                    throw new IllegalArgumentException(source + ": `burst` needs a `rate` (e.g. rate: 10/s)");
                }
                spec.setRateLimit(RateLimit.newBuilder(current).setBurst(whole(node, "burst", 1)).build());
            }
        }

        private RetryPolicy retry(RetryPolicy current, JsonNode node) {
            known(node, RETRY_KEYS, "retry.");
            RetryPolicy.Builder retry = current != null ? RetryPolicy.newBuilder(current) : RetryPolicy.newBuilder();
            if (node.hasNonNull("maxAttempts")) retry.setMaxAttempts(whole(node, "maxAttempts", 1));
            text(node, "backoff").ifPresent(v -> retry.setInitialBackoffMillis(Units.duration(key("retry.backoff"), v).toMillis()));
            text(node, "maxBackoff").ifPresent(v -> retry.setMaxBackoffMillis(Units.duration(key("retry.maxBackoff"), v).toMillis()));
            if (node.hasNonNull("multiplier")) retry.setMultiplier(number(node, "multiplier"));
            if (node.hasNonNull("jitter")) retry.setJitter(number(node, "jitter"));
            if (node.has("onExitCodes")) {
                List<Integer> codes = new ArrayList<>();
                for (String code : strings(node, "onExitCodes")) {
                    try {
                        codes.add(Integer.parseInt(code.strip()));
                    } catch (NumberFormatException e) {
                        throw bad("retry.onExitCodes", code, "exit codes are whole numbers, e.g. [75, 76]");
                    }
                }
                retry.setRetryOnExitCodes(codes);
            }
            if (node.has("onStatuses")) retry.setRetryOnStatuses(strings(node, "onStatuses").stream().map(s -> status(key("retry.onStatuses"), s)).toList());
            return retry.build();
        }

        private HotSettings hot(HotSettings current, JsonNode node) {
            known(node, HOT_KEYS, "hot.");
            HotSettings.Builder hot = current != null ? HotSettings.newBuilder(current) : HotSettings.newBuilder();
            text(node, "idleTtl").ifPresent(v -> hot.setIdleTtlMillis(Units.duration(key("hot.idleTtl"), v).toMillis()));
            if (node.hasNonNull("maxJobsPerContainer")) hot.setMaxJobsPerContainer(whole(node, "maxJobsPerContainer", 1));
            if (node.hasNonNull("prewarm")) hot.setPrewarm(whole(node, "prewarm", 0));
            return hot.build();
        }

        private void known(JsonNode node, List<String> keys, String prefix) {
            if (!node.isObject()) {
                throw new IllegalArgumentException(source + ": `" + (prefix.isEmpty() ? "the definition" : prefix.substring(0, prefix.length() - 1))
                        + "` is a map with keys " + keys);
            }
            node.fieldNames().forEachRemaining(k -> {
                if (!keys.contains(k)) {
                    throw new IllegalArgumentException(source + ": unknown key '" + prefix + k + "'; known keys are " + keys);
                }
            });
        }

        private String key(String key) {
            return source + ": " + key;
        }

        private IllegalArgumentException bad(String key, String value, String fix) {
            return new IllegalArgumentException(key(key) + " '" + value + "' is invalid: " + fix);
        }

        private static java.util.Optional<String> text(JsonNode node, String key) {
            return node.hasNonNull(key) ? java.util.Optional.of(node.get(key).asText()) : java.util.Optional.empty();
        }

        private List<String> strings(JsonNode node, String key) {
            JsonNode value = node.get(key);
            if (value == null || value.isNull()) {
                return List.of();
            }
            if (!value.isArray()) {
                return List.of(value.asText());
            }
            List<String> out = new ArrayList<>();
            value.forEach(v -> out.add(v.asText()));
            return out;
        }

        private int whole(JsonNode node, String key, int min) {
            String text = node.get(key).asText();
            try {
                int value = Integer.parseInt(text.strip());
                if (value < min) {
                    throw bad(key, text, "use a whole number of at least " + min);
                }
                return value;
            } catch (NumberFormatException e) {
                throw bad(key, text, "use a whole number of at least " + min);
            }
        }

        private double number(JsonNode node, String key) {
            String text = node.get(key).asText();
            try {
                return Double.parseDouble(text.strip());
            } catch (NumberFormatException e) {
                throw bad(key, text, "use a number, e.g. 0.5");
            }
        }

        /** CPUs: a finite number above 0, at most {@link #MAX_CPUS} (a typo such as 0 or 500 is refused, not run). */
        private double cpus(JsonNode node) {
            String text = node.get("cpus").asText();
            double cpus;
            try {
                cpus = Double.parseDouble(text.strip());
            } catch (NumberFormatException e) {
                cpus = Double.NaN;
            }
            if (!(cpus > 0 && cpus <= MAX_CPUS)) { // NaN fails too
                throw bad("cpus", text, "use a number above 0 and at most " + (int) MAX_CPUS + ", e.g. 0.5");
            }
            return cpus;
        }

        /** A timeout above 0 and at most {@link #MAX_TIMEOUT}. */
        private long timeout(String text) {
            java.time.Duration timeout = Units.duration(key("timeout"), text);
            if (timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
                throw bad("timeout", text, "use a timeout above 0 and at most " + MAX_TIMEOUT.toHours() + "h, e.g. 30s");
            }
            return timeout.toMillis();
        }

        private boolean bool(JsonNode node, String key) {
            String text = node.get(key).asText().strip().toLowerCase(Locale.ROOT);
            if (!text.equals("true") && !text.equals("false")) {
                throw bad(key, text, "use true or false");
            }
            return Boolean.parseBoolean(text);
        }

        private <E extends Enum<E>> E choice(Class<E> type, String key, String value, String choices) {
            try {
                return Enum.valueOf(type, value.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw bad(key, value, "use " + choices);
            }
        }
    }
}
