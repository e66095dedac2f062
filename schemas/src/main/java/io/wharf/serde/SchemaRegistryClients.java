package io.wharf.serde;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One caching client per registry URL and JVM, shared by every serializer configured by class name. */
public final class SchemaRegistryClients {
    private static final Map<String, HttpSchemaRegistryClient> CLIENTS = new ConcurrentHashMap<>();

    private SchemaRegistryClients() {
    }

    public static SchemaRegistryClient forUrl(String url) {
        return CLIENTS.computeIfAbsent(url, HttpSchemaRegistryClient::new);
    }
}
