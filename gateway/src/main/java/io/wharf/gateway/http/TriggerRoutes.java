package io.wharf.gateway.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;

import io.javalin.http.Context;
import io.wharf.client.Triggers;
import io.wharf.client.Units;
import io.wharf.client.WharfClient;
import io.wharf.records.Trigger;
import io.wharf.sources.spi.TriggerRun;

/**
 * {@code /v1/triggers}: the caller's triggers, with each one's lag (read from the cluster) and, where this instance
 * runs it, its state and last problem. Making, pausing and deleting one is an admin's (it reads a topic on the
 * tenant's behalf); its function must be the tenant's.
 */
public final class TriggerRoutes {
    private final WharfClient client;
    private final Supplier<Map<String, TriggerRun>> runs;

    /** {@code runs}: the triggers this process runs (none when it runs no sources role). */
    public TriggerRoutes(WharfClient client, Supplier<Map<String, TriggerRun>> runs) {
        this.client = client;
        this.runs = runs;
    }

    /** {@code GET /v1/triggers}. */
    public void list(Context ctx) {
        Caller caller = Callers.of(ctx);
        Triggers triggers = client.triggers();
        Map<String, TriggerRun> here = runs.get();
        ctx.json(Map.of("triggers", triggers.all().values().stream().filter(t -> caller.sees(t.getTenant()))
                .map(t -> describe(t, triggers.lag(t), here.get(t.getName()))).toList()));
    }

    /** {@code GET /v1/triggers/{name}}. */
    public void get(Context ctx) {
        Trigger trigger = visible(ctx);
        ctx.json(describe(trigger, client.triggers().lag(trigger), runs.get().get(trigger.getName())));
    }

    /**
     * {@code POST /v1/triggers}: {@code {"name": "orders", "topic": "orders", "function": "ship", "format": "json",
     * "start": "earliest", "batch": 50, "linger": "1s", "keyFrom": "key", "paused": false}}.
     */
    public void create(Context ctx) {
        Caller caller = Callers.of(ctx);
        caller.requireAdmin("Making a trigger");
        JsonNode body = AdminRoutes.json(ctx);
        Trigger trigger;
        try {
            String function = text(body, "function", null);
            var spec = client.functions().get(function);
            if (spec != null && !caller.sees(spec)) {
                throw new IllegalArgumentException("No function " + function + " is deployed: deploy it first, or check function");
            }
            trigger = Triggers.topicTrigger(text(body, "name", null), function, spec != null ? spec.getTenant() : caller.tenant(), text(body, "topic", null),
                    text(body, "format", "raw"), text(body, "start", "earliest"), body.path("batch").asInt(1),
                    Units.duration("linger", text(body, "linger", "1s")), text(body, "keyFrom", "key"));
            trigger.setPaused(body.path("paused").asBoolean(false));
            client.triggers().create(trigger);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        } catch (IllegalStateException e) {
            throw ApiError.of(409, "exists", e.getMessage());
        }
        ctx.status(201).json(describe(trigger, OptionalLong.empty(), null));
    }

    /** {@code POST /v1/triggers/{name}/pause}. */
    public void pause(Context ctx) {
        setPaused(ctx, true);
    }

    /** {@code POST /v1/triggers/{name}/resume}. */
    public void resume(Context ctx) {
        setPaused(ctx, false);
    }

    private void setPaused(Context ctx, boolean paused) {
        Callers.of(ctx).requireAdmin(paused ? "Pausing a trigger" : "Resuming a trigger");
        Trigger trigger = visible(ctx);
        ctx.json(describe(client.triggers().pause(trigger.getName(), paused), OptionalLong.empty(), null));
    }

    /** {@code DELETE /v1/triggers/{name}}. */
    public void delete(Context ctx) {
        Callers.of(ctx).requireAdmin("Deleting a trigger");
        client.triggers().delete(visible(ctx).getName());
        ctx.status(204);
    }

    private Trigger visible(Context ctx) {
        String name = ctx.pathParam("name");
        try {
            Trigger trigger = client.triggers().get(name);
            if (Callers.of(ctx).sees(trigger.getTenant())) {
                return trigger;
            }
        } catch (NoSuchElementException e) {
            // answered below, as for another tenant's
        }
        throw ApiError.notFound("No trigger " + name);
    }

    private static Map<String, Object> describe(Trigger t, OptionalLong lag, TriggerRun run) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", t.getName());
        out.put("function", t.getFunction());
        out.put("tenant", t.getTenant());
        if (t.getTopic() != null) {
            out.put("topic", t.getTopic().getTopic());
            out.put("format", t.getTopic().getFormat().name().toLowerCase(java.util.Locale.ROOT));
            out.put("start", t.getTopic().getStartAtEnd() ? "latest" : "earliest");
            out.put("batch", t.getTopic().getBatchSize());
            out.put("lingerMillis", t.getTopic().getLingerMillis());
            out.put("keyFrom", t.getTopic().getKeyFrom());
        } else if (t.getFiles() != null) {
            out.put("files", Map.of("directory", t.getFiles().getDirectory(), "pattern", t.getFiles().getPattern(),
                    "settleMillis", t.getFiles().getSettleMillis()));
        } else {
            var d = t.getDatabase();
            out.put("database", Map.of("connector", d.getConnector(), "host", d.getHost(), "port", d.getPort(), "database", d.getDatabase(),
                    "user", d.getUser(), "tables", d.getTables(), "snapshot", d.getSnapshot()));
        }
        out.put("paused", t.getPaused());
        out.put("createdAt", t.getCreatedAt().toString());
        out.put("lag", lag.isPresent() ? lag.getAsLong() : null);
        out.put("here", run == null ? null : Map.of("state", run.state().name(), "lag", run.lag(), "problem", String.valueOf(run.problem())));
        return out;
    }

    private static String text(JsonNode body, String field, String otherwise) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            if (otherwise == null) {
                throw new IllegalArgumentException("The body has no " + field);
            }
            return otherwise;
        }
        return value.asText();
    }
}
