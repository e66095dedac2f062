package io.wharf.serde;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One caching client per registry (URL and credentials) and JVM, shared by every serializer configured by class name. */
public final class SchemaRegistryClients {
    private static final Map<RegistrySettings, HttpSchemaRegistryClient> CLIENTS = new ConcurrentHashMap<>();

    private SchemaRegistryClients() {
    }

    public static SchemaRegistryClient forSettings(RegistrySettings settings) {
        return CLIENTS.computeIfAbsent(settings, HttpSchemaRegistryClient::new);
    }
}
