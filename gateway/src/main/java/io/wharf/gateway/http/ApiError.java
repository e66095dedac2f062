package io.wharf.gateway.http;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.kafka.common.errors.RetriableException;

import io.wharf.serde.SchemaRegistryException;

/**
 * A request the gateway answers with an error: its HTTP status and a JSON body that says what was wrong and how to
 * fix it ({@code {"error": ..., "message": ...}} plus any detail fields). Thrown by the routes, written by one handler.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final Map<String, Object> body;
    private final Map<String, String> headers;

    private ApiError(int status, String error, String message, Map<String, Object> detail, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.body = new LinkedHashMap<>();
        this.body.put("error", error);
        this.body.put("message", message);
        this.body.putAll(detail);
        this.headers = headers;
    }

    public static ApiError of(int status, String error, String message) {
        return new ApiError(status, error, message, Map.of(), Map.of());
    }

    public static ApiError badRequest(String message) {
        return of(400, "bad_request", message);
    }

    public static ApiError notFound(String message) {
        return of(404, "not_found", message);
    }

    public static ApiError unauthorized(String message) {
        return new ApiError(401, "unauthorized", message, Map.of(), Map.of("WWW-Authenticate", "Bearer realm=\"wharf\""));
    }

    public static ApiError forbidden(String message) {
        return of(403, "forbidden", message);
    }

    /**
     * What a route did not map itself: a registry or cluster that does not answer is 503 with {@code Retry-After}
     * (the request may be sent again), anything else 500 naming the failure.
     */
    public static ApiError failure(Exception e) {
        if (SchemaRegistryException.isUnavailable(e)) {
            return retryShortly("The schema registry did not answer", e);
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RetriableException) {
                return retryShortly("The Kafka cluster did not answer in time", t);
            }
        }
        return of(500, "internal", "The gateway failed on this request: " + e);
    }

    private static ApiError retryShortly(String what, Throwable cause) {
        return new ApiError(503, "unavailable", what + "; send the request again shortly (" + cause.getMessage() + ")", Map.of(),
                Map.of("Retry-After", "1"));
    }

    public int status() {
        return status;
    }

    public Map<String, Object> body() {
        return body;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
