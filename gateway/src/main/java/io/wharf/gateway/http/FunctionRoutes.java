package io.wharf.gateway.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.javalin.http.Context;
import io.wharf.client.FunctionDefinitions;
import io.wharf.client.Units;
import io.wharf.client.WharfClient;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Schedule;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;
import io.wharf.serde.RecordJson;

/**
 * {@code /v1/functions} and {@code /v1/schedules}: a tenant's key lists, reads, deploys and deletes its tenant's
 * functions and their schedules (an admin's, every tenant's). A deploy takes the keys of {@code wharf deploy -f},
 * through the same mapping, and seals secret values with this gateway's keys before they reach Kafka.
 */
public final class FunctionRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final WharfClient client;
    private final Function<String, FunctionSpec> functions;
    private final Supplier<Map<String, FunctionSpec>> all;
    private final SealedSecrets secrets;
    private final Runnable settle;

    /**
     * @param secrets the keys that seal secret values given to the API, or null when this gateway has none
     * @param settle  waits until this instance's view of the functions holds what was just written, so that a deploy
     *                is read back (and called) through this instance at once
     */
    public FunctionRoutes(WharfClient client, Function<String, FunctionSpec> functions, Supplier<Map<String, FunctionSpec>> all, SealedSecrets secrets,
                          Runnable settle) {
        this.settle = settle;
        this.client = client;
        this.functions = functions;
        this.all = all;
        this.secrets = secrets;
    }

    /** {@code GET /v1/functions}. */
    public void list(Context ctx) {
        Caller caller = Callers.of(ctx);
        ctx.json(Map.of("functions", all.get().values().stream().filter(caller::sees).sorted(Comparator.comparing(FunctionSpec::getName))
                .map(FunctionRoutes::describe).toList()));
    }

    /** {@code GET /v1/functions/{name}}. */
    public void get(Context ctx) {
        ctx.json(describe(visible(Callers.of(ctx), ctx.pathParam("name"))));
    }

    /** {@code PUT /v1/functions/{name}}: deploys it (201) or replaces it (200), as {@code wharf deploy -f} would. */
    public void put(Context ctx) {
        Caller caller = Callers.of(ctx);
        String name = ctx.pathParam("name");
        FunctionSpec existing = functions.apply(name);
        if (existing != null && !caller.sees(existing)) {
            throw ApiError.of(409, "name_taken", "Function name " + name + " is taken: choose another");
        }
        FunctionSpec.Builder spec = FunctionSpec.newBuilder();
        boolean tenantGiven;
        try {
            ObjectNode settings = FunctionDefinitions.parse(ctx.body(), "the request body");
            JsonNode named = settings.get("name");
            if (named != null && !named.asText().equals(name)) {
                throw ApiError.badRequest("The body names function " + named.asText() + " but the path " + name + ": leave name out or make them agree");
            }
            JsonNode tenant = settings.get("tenant");
            tenantGiven = tenant != null;
            if (tenant != null && !caller.sees(tenant.asText())) {
                throw ApiError.forbidden("A key of tenant " + caller.tenant() + " deploys functions of its own tenant only; leave tenant out");
            }
            FunctionDefinitions.apply(spec, settings, "the request body");
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        spec.setName(name);
        if (!caller.admin()) {
            spec.setTenant(caller.tenant());
        } else if (!tenantGiven) {
            spec.setTenant(existing != null ? existing.getTenant() : caller.tenant());
        }
        if (!spec.hasImage() || spec.getImage() == null) {
            throw ApiError.badRequest("No image for function " + name + ": give image: REFERENCE");
        }
        spec.setUpdatedAt(Instant.now());
        FunctionSpec built = sealed(spec.build());
        try {
            client.deploy(built);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        } catch (IllegalStateException e) {
            throw ApiError.of(503, "unavailable", e.getMessage());
        }
        settle.run();
        ctx.status(existing == null ? 201 : 200).json(describe(built));
    }

    private FunctionSpec sealed(FunctionSpec spec) {
        boolean hasSecrets = !spec.getSecretEnv().isEmpty() || spec.getRegistryAuth() != null || spec.getWebhookSecret() != null;
        if (!hasSecrets) {
            return spec;
        }
        if (secrets == null) {
            throw ApiError.badRequest("secretEnv and webhookSecret are sealed by the gateway before it reaches Kafka, and this gateway has no secrets key: its operator "
                    + "sets " + SealedSecrets.KEY_SETTING + " (the workers' key), or deploy with `wharf deploy` and WHARF_SECRETS_KEY");
        }
        return FunctionSecrets.sealAll(secrets, spec);
    }

    /** {@code DELETE /v1/functions/{name}}: removes it; its events are refused from then on. */
    public void delete(Context ctx) {
        FunctionSpec function = visible(Callers.of(ctx), ctx.pathParam("name"));
        client.undeploy(function.getName());
        settle.run();
        ctx.status(204);
    }

    /** {@code GET /v1/schedules}: the schedules of the caller's functions. */
    public void schedules(Context ctx) {
        Caller caller = Callers.of(ctx);
        ctx.json(Map.of("schedules", client.schedules().values().stream().filter(s -> caller.sees(s.getTenant()))
                .map(FunctionRoutes::describe).toList()));
    }

    /**
     * {@code PUT /v1/schedules/{id}}: {@code {"function", "cron" | "every" | "at", "timeZone", "endAt", "maxRuns", "paused",
     * "data", "contentType"}}, as {@code wharf schedule create} takes them.
     */
    public void putSchedule(Context ctx) {
        Caller caller = Callers.of(ctx);
        JsonNode body;
        try {
            body = JSON.readTree(ctx.body());
        } catch (java.io.IOException e) {
            throw ApiError.badRequest("The body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (body == null || !body.isObject() || !body.hasNonNull("function")) {
            throw ApiError.badRequest("Give a JSON object with function and one of cron, every or at");
        }
        FunctionSpec function = visible(caller, body.get("function").asText());
        Schedule schedule;
        try {
            schedule = Schedule.newBuilder().setId(ctx.pathParam("id")).setFunction(function.getName()).setTenant(function.getTenant())
                    .setCron(text(body, "cron"))
                    .setTimeZone(body.hasNonNull("timeZone") ? body.get("timeZone").asText() : "UTC")
                    .setEveryMillis(body.hasNonNull("every") ? Units.duration("every", body.get("every").asText()).toMillis() : null)
                    .setRunAt(body.hasNonNull("at") ? Instant.parse(body.get("at").asText()) : null)
                    .setEndAt(body.hasNonNull("endAt") ? Instant.parse(body.get("endAt").asText()) : null)
                    .setMaxRuns(body.hasNonNull("maxRuns") ? body.get("maxRuns").asLong() : null)
                    .setPaused(body.path("paused").asBoolean(false))
                    .setPayload(ByteBuffer.wrap(body.hasNonNull("data") ? body.get("data").asText().getBytes(StandardCharsets.UTF_8) : new byte[0]))
                    .setContentType(body.hasNonNull("contentType") ? body.get("contentType").asText() : "application/octet-stream")
                    .setCreatedAt(Instant.now()).build();
            client.schedule(schedule);
        } catch (IllegalArgumentException | java.time.format.DateTimeParseException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        ctx.status(200).json(describe(schedule));
    }

    /** {@code DELETE /v1/schedules/{id}}. */
    public void deleteSchedule(Context ctx) {
        Caller caller = Callers.of(ctx);
        Schedule schedule = client.schedules().get(ctx.pathParam("id"));
        if (schedule == null || !caller.sees(schedule.getTenant())) {
            throw ApiError.notFound("No schedule " + ctx.pathParam("id"));
        }
        client.deleteSchedule(schedule.getId());
        ctx.status(204);
    }

    private FunctionSpec visible(Caller caller, String name) {
        FunctionSpec function = functions.apply(name);
        if (function == null || !caller.sees(function)) {
            throw ApiError.notFound("No function " + name + " (`wharf functions` lists them)");
        }
        return function;
    }

    private static String text(JsonNode body, String key) {
        return body.hasNonNull(key) ? body.get(key).asText() : null;
    }

    /** A function as JSON, its secret values hidden (they are sealed anyway). */
    static Map<String, Object> describe(FunctionSpec spec) {
        return RecordJson.of(FunctionSecrets.hidden(spec));
    }

    /** A schedule as the API shows it, with when it fires next ({@code null} when paused or past its end). */
    private static Map<String, Object> describe(Schedule schedule) {
        Map<String, Object> out = new java.util.LinkedHashMap<>(RecordJson.of(schedule));
        Long next = schedule.getPaused() ? null : io.wharf.rules.Schedules.nextDue(schedule, System.currentTimeMillis());
        out.put("nextRun", next == null ? null : java.time.Instant.ofEpochMilli(next).toString());
        return out;
    }
}
