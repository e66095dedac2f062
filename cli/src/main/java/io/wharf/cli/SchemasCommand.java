package io.wharf.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.serde.RegistrySettings;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.TopicSchemas;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wharf schemas}: the registry subjects of Wharf's topics as the registry serves them, and their
 * {@code .avsc} files for clients that generate code. Reads the registry only; a dispatcher publishes them.
 */
@Command(name = "schemas", description = "List the registry subjects of Wharf's topics (who writes each, its key, latest version and id); "
        + "--out DIR writes each record's .avsc for code generators.")
final class SchemasCommand implements Callable<Integer> {
    @Option(names = "--out", description = "Directory to write <Record>.avsc files into (created if missing).")
    Path out;
    @Option(names = "--registry", description = "Schema registry URL, Confluent API (default: wharf.registry.url of --config or the "
            + "environment, else the running `wharf dev`).")
    String registry;
    @Option(names = "--config", description = "A properties file with wharf.registry.* settings (credentials, trust store).")
    Path config;

    @Override
    public Integer call() throws IOException {
        Map<String, String> settings = Wharf.Connection.settings(config);
        String url = Endpoints.registry(registry != null ? registry : settings.get(RegistrySettings.URL_CONFIG));
        SchemaRegistryClient client = new HttpSchemaRegistryClient(WharfClient.registrySettings(url, settings));
        if (out != null) {
            Files.createDirectories(out);
        }
        int missing = 0;
        System.out.printf("%-24s %-8s %-5s %-12s %-13s %s%n", "SUBJECT", "VERSION", "ID", "RECORD", "CLIENTS", "KEY");
        for (TopicSchemas.Entry entry : TopicSchemas.ALL) {
            Optional<SchemaRegistryClient.Version> latest = client.latest(entry.subject());
            if (latest.isEmpty()) {
                missing++;
            }
            System.out.printf("%-24s %-8s %-5s %-12s %-13s %s%n", entry.subject(),
                    latest.map(v -> String.valueOf(v.version())).orElse("-"), latest.map(v -> String.valueOf(v.id())).orElse("-"),
                    entry.value().getName(), entry.use().label(), entry.key());
            if (out != null) {
                // What the registry serves is what clients will meet; before a dispatcher published it, this build's.
                String text = latest.map(v -> v.schema()).orElse(entry.value()).toString(true);
                Files.writeString(out.resolve(entry.value().getName() + ".avsc"), text + "\n", StandardCharsets.UTF_8);
            }
        }
        if (out != null) {
            System.out.println("Wrote " + TopicSchemas.ALL.size() + " .avsc files to " + out.toAbsolutePath());
        }
        if (missing > 0) {
            System.err.println(missing + " subject(s) not registered at " + url
                    + ": a dispatcher publishes them when it starts; is one running against this registry?");
            return 1;
        }
        return 0;
    }
}
