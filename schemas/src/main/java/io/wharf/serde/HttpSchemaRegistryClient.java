package io.wharf.serde;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Speaks the Confluent schema-registry REST API (as served by Confluent's registry, Apicurio's
 * {@code /apis/ccompat/v7}, Karapace, Redpanda). Registrations and lookups are cached, so the hot path of a
 * serializer does no HTTP at all once a schema is known.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {
    private static final Logger log = LoggerFactory.getLogger(HttpSchemaRegistryClient.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI baseUrl;
    private final HttpClient http;
    private final Optional<String> authorization;
    private final Duration timeout;
    /** By subject, then schema: generated classes hand over the same Schema instance, so lookups skip rendering it. */
    private final Map<String, Map<Schema, Integer>> registered = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    public HttpSchemaRegistryClient(String baseUrl) {
        this(RegistrySettings.of(baseUrl));
    }

    public HttpSchemaRegistryClient(RegistrySettings settings) {
        this(settings, Duration.ofSeconds(10));
    }

    public HttpSchemaRegistryClient(RegistrySettings settings, Duration timeout) {
        String baseUrl = settings.url();
        if (baseUrl == null || baseUrl.isBlank()) {
            throw new IllegalArgumentException("Schema registry URL is empty: set " + AvroSerdeConfig.REGISTRY_URL_CONFIG
                    + " to the registry's Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7");
        }
        this.baseUrl = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
        this.timeout = timeout;
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(timeout);
        settings.sslContext().ifPresent(http::sslContext);
        this.http = http.build();
        this.authorization = settings.authorization();
    }

    public String url() {
        return baseUrl.toString();
    }

    @Override
    public int register(String subject, Schema schema) {
        Map<Schema, Integer> ofSubject = registered.computeIfAbsent(subject, k -> new ConcurrentHashMap<>());
        Integer cached = ofSubject.get(schema);
        if (cached != null) {
            return cached;
        }
        // One registration per subject at a time: the first calls of a burst (a gateway's first requests) wait for it
        // and find the id, instead of each asking the registry at once.
        ReentrantLock lock = locks.computeIfAbsent(subject, k -> new ReentrantLock());
        lock.lock();
        try {
            cached = ofSubject.get(schema);
            return cached != null ? cached : registerNow(subject, schema, ofSubject);
        } finally {
            lock.unlock();
        }
    }

    private int registerNow(String subject, Schema schema, Map<Schema, Integer> ofSubject) {
        ensureCompatibility(subject);
        JsonNode response = null;
        // Twice at most: a subject another client creates at the same moment fails the first try with "already exists".
        for (int attempt = 1; response == null; attempt++) {
            try {
                response = send("POST", "subjects/" + encode(subject) + "/versions",
                        Map.of("schema", schema.toString(), "schemaType", "AVRO"), "register a schema under subject '" + subject + "'");
            } catch (SchemaRegistryException e) {
                if (attempt > 1 || !String.valueOf(e.getMessage()).contains("already exists")) {
                    throw e;
                }
            }
        }
        int id = response.path("id").asInt(-1);
        if (id < 0) {
            throw new SchemaRegistryException("Schema registry at " + baseUrl + " answered a registration under subject '" + subject
                    + "' without an id: " + response);
        }
        ofSubject.put(schema, id);
        byId.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public Schema schemaById(int id) {
        Schema cached = byId.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode response = send("GET", "schemas/ids/" + id, null, "look up schema id " + id);
        String text = response.path("schema").asText(null);
        if (text == null) {
            throw new SchemaRegistryException("Schema registry at " + baseUrl + " has no schema text for id " + id + ": " + response);
        }
        Schema schema = new Schema.Parser().parse(text);
        byId.putIfAbsent(id, schema);
        return schema;
    }

    @Override
    public Optional<Version> latest(String subject) {
        JsonNode response;
        try {
            response = send("GET", "subjects/" + encode(subject) + "/versions/latest", null, "read the latest version of subject '" + subject + "'");
        } catch (NotFound e) {
            return Optional.empty();
        }
        String text = response.path("schema").asText(null);
        if (text == null) {
            throw new SchemaRegistryException("Schema registry at " + baseUrl + " has no schema text for subject '" + subject + "': " + response);
        }
        return Optional.of(new Version(subject, response.path("version").asInt(-1), response.path("id").asInt(-1), new Schema.Parser().parse(text)));
    }

    /** Sets BACKWARD on a subject that has no versions yet; a subject with history keeps whatever its owner chose. */
    private void ensureCompatibility(String subject) {
        try {
            send("GET", "subjects/" + encode(subject) + "/versions", null, "list versions of subject '" + subject + "'");
            return; // subject exists
        } catch (NotFound e) {
            // a new subject: fall through
        }
        try {
            send("PUT", "config/" + encode(subject), Map.of("compatibility", COMPATIBILITY),
                    "set compatibility " + COMPATIBILITY + " on subject '" + subject + "'");
        } catch (SchemaRegistryException e) {
            if (String.valueOf(e.getMessage()).contains("already exists")) {
                return; // another client set it at the same moment
            }
            log.warn("Could not set {} compatibility on subject {} (the registry's global level applies): {}", COMPATIBILITY, subject, e.getMessage());
        }
    }

    private JsonNode send(String method, String path, Object body, String what) {
        URI uri = baseUrl.resolve(path);
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout)
                    .header("Accept", CONTENT_TYPE + ", application/json");
            authorization.ifPresent(value -> request.header("Authorization", value));
            if (body == null) {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                request.header("Content-Type", CONTENT_TYPE)
                        .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            }
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 404) {
                throw new NotFound("Schema registry at " + baseUrl + " could not " + what + ": 404 " + response.body());
            }
            if (response.statusCode() == 401 || response.statusCode() == 403) {
                throw new SchemaRegistryException("Schema registry at " + baseUrl + " refused to " + what + ": HTTP " + response.statusCode()
                        + (authorization.isPresent() ? " for the credentials given" : " (it wants credentials: set " + RegistrySettings.BASIC_AUTH_CONFIG
                        + " or " + RegistrySettings.BEARER_TOKEN_CONFIG + ")"), null, false);
            }
            if (response.statusCode() / 100 != 2) {
                throw new SchemaRegistryException("Schema registry at " + baseUrl + " refused to " + what + ": HTTP "
                        + response.statusCode() + " " + response.body(), null, response.statusCode() >= 500);
            }
            return response.body().isBlank() ? JSON.nullNode() : JSON.readTree(response.body());
        } catch (IOException e) {
            throw new SchemaRegistryException("Could not reach the schema registry at " + baseUrl + " to " + what + ": " + e
                    + ". Is it running, and is " + AvroSerdeConfig.REGISTRY_URL_CONFIG + " right?", e, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("Interrupted while trying to " + what, e, true);
        }
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static final class NotFound extends SchemaRegistryException {
        NotFound(String message) {
            super(message);
        }
    }
}
