package io.wharf.gateway.http;

import java.util.function.Function;

import io.javalin.http.Context;
import io.wharf.records.ApiKey;
import io.wharf.rules.ApiKeys;

/** Authenticates requests by their {@code Authorization: Bearer KEY} against the keys on {@code wharf.apikeys}. */
public final class Callers {
    private static final String ATTRIBUTE = "wharf.caller";
    private final Function<String, ApiKey> keys;

    public Callers(Function<String, ApiKey> keys) {
        this.keys = keys;
    }

    /**
     * The caller the request's key names, remembered on the request.
     *
     * @throws ApiError 401 for a missing, malformed, unknown, revoked or wrong key
     */
    public Caller authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            throw ApiError.unauthorized("This route needs an API key: send Authorization: Bearer wharf_... (`wharf apikey create` makes one)");
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiError.unauthorized("Authorization must be 'Bearer wharf_...', an API key of this Wharf");
        }
        ApiKey key = ApiKeys.verify(header.substring(7), keys)
                .orElseThrow(() -> ApiError.unauthorized("The API key is not one of this Wharf's, or it was revoked"));
        Caller caller = new Caller(key.getId(), key.getTenant(), key.getAdmin());
        ctx.attribute(ATTRIBUTE, caller);
        return caller;
    }

    /** The caller {@link #authenticate} found for this request. */
    public static Caller of(Context ctx) {
        Caller caller = ctx.attribute(ATTRIBUTE);
        if (caller == null) {
            throw new IllegalStateException("route served without authentication");
        }
        return caller;
    }
}
