package io.wharf.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.wharf.records.FunctionSpec;
import io.wharf.records.NetworkMode;

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
 * </pre>
 */
final class FunctionFiles {
    private static final List<String> KEYS = List.of("name", "image", "cmd", "memory", "cpus", "timeout", "env", "pool", "network", "user");

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
        return spec;
    }

    static NetworkMode network(String option, String value) {
        try {
            return NetworkMode.valueOf(value.strip().toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a network mode: use none or host");
        }
    }
}
