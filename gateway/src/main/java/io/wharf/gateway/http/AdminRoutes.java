package io.wharf.gateway.http;

import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.javalin.http.Context;
import io.wharf.client.Units;
import io.wharf.client.WharfClient;
import io.wharf.records.DeadLetter;
import io.wharf.records.RateLimit;
import io.wharf.records.TenantSpec;
import io.wharf.topics.Topics;

/**
 * {@code /v1/tenants} and {@code /v1/dlq}: tenants' shared limits (a tenant's key reads its own; setting them is an
 * admin's), and the dead-letter topic with the replay of a refused event (admins only: letters hold every tenant's
 * payloads).
 */
public final class AdminRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How far back the dead-letter routes look, per partition of wharf.dlq. */
    private static final int DLQ_WINDOW = 1000;

    private final WharfClient client;

    public AdminRoutes(WharfClient client) {
        this.client = client;
    }

    /** {@code GET /v1/tenants}: every tenant's limits for an admin, the caller's own otherwise. */
    public void tenants(Context ctx) {
        Caller caller = Callers.of(ctx);
        ctx.json(Map.of("tenants", client.tenants().values().stream().filter(t -> caller.sees(t.getName())).map(AdminRoutes::describe).toList()));
    }

    /** {@code PUT /v1/tenants/{name}}: {@code {"rate": "50/s", "burst": 10, "maxConcurrency": 8, "maxPending": 10000}}. */
    public void putTenant(Context ctx) {
        Callers.of(ctx).requireAdmin("Setting a tenant's limits");
        String name = ctx.pathParam("name");
        JsonNode body = json(ctx);
        if (!body.hasNonNull("rate") && !body.hasNonNull("maxConcurrency")) {
            throw ApiError.badRequest("Give rate (e.g. \"50/s\") and/or maxConcurrency; DELETE removes the limits");
        }
        TenantSpec spec;
        try {
            spec = TenantSpec.newBuilder().setName(name)
                    .setRateLimit(body.hasNonNull("rate") ? RateLimit.newBuilder().setPerSecond(Units.perSecond("rate", body.get("rate").asText()))
                            .setBurst(body.path("burst").asInt(1)).build() : null)
                    .setMaxConcurrency(body.hasNonNull("maxConcurrency") ? body.get("maxConcurrency").asInt() : null)
                    .setMaxPending(body.path("maxPending").asInt(10_000)).setUpdatedAt(Instant.now()).build();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        client.tenant(name, spec);
        ctx.json(describe(spec));
    }

    /** {@code DELETE /v1/tenants/{name}}: removes the tenant's limits. */
    public void deleteTenant(Context ctx) {
        Callers.of(ctx).requireAdmin("Removing a tenant's limits");
        client.tenant(ctx.pathParam("name"), null);
        ctx.status(204);
    }

    /** {@code GET /v1/dlq?limit=N}: the most recent dead letters, newest first. */
    public void deadLetters(Context ctx) {
        Callers.of(ctx).requireAdmin("Reading the dead-letter topic");
        int limit = ctx.queryParamAsClass("limit", Integer.class).check(n -> n >= 1 && n <= DLQ_WINDOW, "from 1 to " + DLQ_WINDOW).getOrDefault(50);
        ctx.json(Map.of("deadLetters", client.latest(Topics.DLQ, DeadLetter.class, DLQ_WINDOW).stream()
                .sorted(Comparator.comparing(DeadLetter::getAt).reversed()).limit(limit).map(AdminRoutes::describe).toList()));
    }

    /** {@code POST /v1/dlq/{id}/replay}: sends a refused event again as it was (fix its function first). */
    public void replay(Context ctx) {
        Callers.of(ctx).requireAdmin("Replaying a dead letter");
        String id = ctx.pathParam("id");
        Optional<DeadLetter> letter = client.latest(Topics.DLQ, DeadLetter.class, DLQ_WINDOW).stream().filter(l -> l.getId().equals(id))
                .max(Comparator.comparing(DeadLetter::getAt));
        DeadLetter found = letter.orElseThrow(() -> ApiError.notFound("No dead letter " + id + " among the last " + DLQ_WINDOW
                + " of each partition of " + Topics.DLQ));
        if (!found.getSourceTopic().equals(Topics.EVENTS) || found.getOriginalValue() == null) {
            throw ApiError.of(409, "not_replayable", "Dead letter " + id + " came from " + found.getSourceTopic()
                    + "; only events refused by the dispatcher are replayed (a job's letter says why it failed: fix and invoke again)");
        }
        String key = found.getOriginalKey() == null ? found.getFunction()
                : new String(ResultResponses.bytes(found.getOriginalKey()), java.nio.charset.StandardCharsets.UTF_8);
        client.resend(Topics.EVENTS, key, ResultResponses.bytes(found.getOriginalValue()));
        ctx.status(202).json(Map.of("id", id, "message", "The event was sent again to " + Topics.EVENTS));
    }

    /** The request's body as a JSON object; a 400 saying what is wrong otherwise. */
    static JsonNode json(Context ctx) {
        try {
            JsonNode body = JSON.readTree(ctx.body());
            if (body == null || !body.isObject()) {
                throw ApiError.badRequest("The body must be a JSON object");
            }
            return body;
        } catch (java.io.IOException e) {
            throw ApiError.badRequest("The body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static Map<String, Object> describe(TenantSpec spec) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", spec.getName());
        out.put("ratePerSecond", spec.getRateLimit() == null ? null : spec.getRateLimit().getPerSecond());
        out.put("burst", spec.getRateLimit() == null ? null : spec.getRateLimit().getBurst());
        out.put("maxConcurrency", spec.getMaxConcurrency());
        out.put("maxPending", spec.getMaxPending());
        return out;
    }

    private static Map<String, Object> describe(DeadLetter letter) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", letter.getId());
        out.put("function", letter.getFunction());
        out.put("status", letter.getStatus().name());
        out.put("reason", letter.getReason());
        out.put("source", letter.getSourceTopic() + "-" + letter.getSourcePartition() + "@" + letter.getSourceOffset());
        out.put("replayable", letter.getSourceTopic().equals(Topics.EVENTS) && letter.getOriginalValue() != null);
        out.put("at", letter.getAt().toString());
        return out;
    }
}
