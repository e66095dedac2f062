package io.wharf.cli;

import java.util.concurrent.Callable;

import io.wharf.client.WharfClient;
import io.wharf.records.ApiKey;
import io.wharf.rules.ApiKeys;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code wharf apikey}: the HTTP gateway's API keys, each for one tenant; Kafka keeps only their hashes. */
@Command(name = "apikey", description = "Create, list and revoke the gateway's API keys.",
        subcommands = {ApiKeyCommand.Create.class, ApiKeyCommand.List.class, ApiKeyCommand.Revoke.class})
final class ApiKeyCommand {
    private ApiKeyCommand() {
    }

    @Command(name = "create", description = "Make a key for a tenant and print it; it is shown this once.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--tenant", required = true, description = "The tenant whose functions and jobs the key reaches.")
        String tenant;
        @Option(names = "--admin", description = "The key also reaches the management routes of every tenant.")
        boolean admin;
        @Option(names = "--description", defaultValue = "", description = "What the key is for (shown by list).")
        String description;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            ApiKeys.Issued issued;
            try (WharfClient client = connection.client()) {
                issued = client.issueApiKey(tenant, admin, description);
            }
            System.out.println(issued.key());
            System.err.println("API key " + issued.record().getId() + " of tenant " + tenant + (admin ? " (admin)" : "")
                    + ": store it now, it is not shown again (Kafka keeps only its hash).");
            return 0;
        }
    }

    @Command(name = "list", description = "The keys that are not revoked: id, tenant, admin, created, description.")
    static final class List implements Callable<Integer> {
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                System.out.printf("%-14s %-16s %-6s %-25s %s%n", "ID", "TENANT", "ADMIN", "CREATED", "DESCRIPTION");
                for (ApiKey key : client.apiKeys().values()) {
                    System.out.printf("%-14s %-16s %-6s %-25s %s%n", key.getId(), key.getTenant(), key.getAdmin() ? "yes" : "no",
                            key.getCreatedAt(), key.getDescription());
                }
            }
            return 0;
        }
    }

    @Command(name = "revoke", description = "Revoke a key by its id.")
    static final class Revoke implements Callable<Integer> {
        @Parameters(index = "0", description = "The key's id (as list shows it).")
        String id;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                if (!client.apiKeys().containsKey(id)) {
                    throw new IllegalArgumentException("No API key " + id + ": `wharf apikey list` shows the keys there are");
                }
                client.revokeApiKey(id);
            }
            System.out.println("Revoked API key " + id + ".");
            return 0;
        }
    }
}
