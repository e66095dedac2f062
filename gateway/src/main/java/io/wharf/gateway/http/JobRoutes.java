package io.wharf.gateway.http;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.javalin.http.Context;
import io.wharf.client.TopicView;
import io.wharf.client.WharfClient;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobPhase;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.LogLine;
import io.wharf.rules.JobStates;

/**
 * {@code /v1/jobs}: a job's state, result, logs and cancel, and recent jobs, answered from this instance's view of
 * {@code wharf.status} (so from any instance), for the caller's tenant only (another tenant's job is not found).
 */
public final class JobRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_LIST = 1000;

    private final WharfClient client;
    private final TopicView<JobState> states;
    private final Function<String, FunctionSpec> functions;
    private final JobStream stream;
    private final java.util.function.BooleanSupplier running;

    /** {@code stream}: where this instance's view of the states hands each one; {@code running}: false once the gateway stops. */
    public JobRoutes(WharfClient client, TopicView<JobState> states, Function<String, FunctionSpec> functions, JobStream stream,
                     java.util.function.BooleanSupplier running) {
        this.client = client;
        this.states = states;
        this.functions = functions;
        this.stream = stream;
        this.running = running;
    }

    /**
     * {@code GET /v1/jobs/stream}: server-sent events, one {@code job} event (the job's state, as {@code GET /v1/jobs/{id}}
     * answers it) for each state the caller may see, as it arrives; a comment every 15 s keeps proxies from closing it.
     */
    public void stream(Context ctx) throws IOException, InterruptedException {
        Caller caller = Callers.of(ctx);
        ctx.status(200).contentType("text/event-stream").header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no");
        OutputStream out = ctx.res().getOutputStream();
        ctx.res().flushBuffer();
        JobStream.Subscriber subscriber = stream.subscribe(state -> caller.sees(tenant(state)));
        try {
            out.write(": stream of job states\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (running.getAsBoolean() && !subscriber.overflowed) {
                JobState state = subscriber.queue.poll(15, java.util.concurrent.TimeUnit.SECONDS);
                if (state == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } else {
                    event(out, "job", describe(state));
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            // the reader went away
        } finally {
            stream.unsubscribe(subscriber);
        }
    }

    /**
     * {@code GET /v1/stats}: per function the caller sees, over the ended jobs this instance's view holds (the most
     * recent, up to {@code wharf.gateway.status.max.jobs}): how many ended each way, the success ratio, and the
     * lifetime (event to final state) at p50, p90 and p99, in milliseconds.
     */
    public void stats(Context ctx) {
        Caller caller = Callers.of(ctx);
        Map<String, List<JobState>> ended = new java.util.TreeMap<>();
        for (JobState state : states.snapshot().values()) {
            if (JobStates.isFinal(state) && caller.sees(tenant(state))) {
                ended.computeIfAbsent(state.getFunction(), f -> new ArrayList<>()).add(state);
            }
        }
        List<Map<String, Object>> functionsOut = new ArrayList<>();
        ended.forEach((function, list) -> {
            Map<String, Long> byStatus = new java.util.TreeMap<>();
            list.forEach(s -> byStatus.merge(s.getPhase().name(), 1L, Long::sum));
            long[] lifetimes = list.stream().filter(s -> s.getEventCreatedAt() != null).mapToLong(s -> s.getUpdatedAt() - s.getEventCreatedAt())
                    .sorted().toArray();
            Map<String, Object> row = new java.util.LinkedHashMap<>();
            row.put("function", function);
            row.put("ended", list.size());
            row.put("byStatus", byStatus);
            row.put("successRatio", byStatus.getOrDefault("SUCCEEDED", 0L) / (double) list.size());
            row.put("lifetimeMs", Map.of("p50", percentile(lifetimes, 0.5), "p90", percentile(lifetimes, 0.9), "p99", percentile(lifetimes, 0.99)));
            functionsOut.add(row);
        });
        ctx.json(Map.of("functions", functionsOut));
    }

    private static long percentile(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** {@code GET /v1/jobs/{id}}. */
    public void get(Context ctx) {
        ctx.json(describe(visible(Callers.of(ctx), ctx.pathParam("id"))));
    }

    /** {@code GET /v1/jobs/{id}/result}: the output as the synchronous call would have answered, once the job ended. */
    public void result(Context ctx) {
        Caller caller = Callers.of(ctx);
        answer(ctx, caller, visible(caller, ctx.pathParam("id")));
    }

    private void answer(Context ctx, Caller caller, JobState state) {
        if (!JobStates.isFinal(state)) {
            ctx.header(ResultResponses.CALL_ID, state.getJobId()).header("Retry-After", "1").status(202).json(describe(state));
            return;
        }
        JobResult result = client.result(state.getJobId(), began(state)).orElseThrow(() -> ApiError.of(410, "gone",
                "Job " + state.getJobId() + " ended " + state.getPhase() + ", but its result is no longer on wharf.results (past the topic's retention)"));
        if (result.getDuplicateOf() != null) {
            // A retry under an idempotency key is answered by its first call's job, as its synchronous call was.
            ctx.header(ResultResponses.REPLAYED, "true");
            answer(ctx, caller, visible(caller, result.getDuplicateOf()));
            return;
        }
        ResultResponses.write(ctx, result, functions.apply(state.getFunction()));
    }

    /**
     * {@code GET /v1/jobs/{id}/logs[?follow=true]}: the job's lines as server-sent events ({@code event: line}, data
     * {@code {"stream", "attempt", "line"}}), then {@code event: end} with its state; following, until the job ends.
     */
    public void logs(Context ctx) throws IOException {
        JobState state = visible(Callers.of(ctx), ctx.pathParam("id"));
        boolean follow = Boolean.parseBoolean(ctx.queryParam("follow"));
        ctx.status(200).contentType("text/event-stream").header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no");
        OutputStream out = ctx.res().getOutputStream();
        ctx.res().flushBuffer();
        try {
            client.logs(state.getJobId(), began(state), follow, () -> JobStates.isFinal(current(state.getJobId())), line -> event(out, "line", line(line)));
            event(out, "end", describe(current(state.getJobId())));
        } catch (java.io.UncheckedIOException e) {
            // the caller went away
        }
    }

    /** {@code DELETE /v1/jobs/{id}}: asks the workers to cancel it; 409 if it already ended. */
    public void cancel(Context ctx) {
        Caller caller = Callers.of(ctx);
        JobState state = visible(caller, ctx.pathParam("id"));
        if (JobStates.isFinal(state)) {
            throw ApiError.of(409, "already_ended", "Job " + state.getJobId() + " already ended " + state.getPhase());
        }
        client.cancel(state.getJobId(), "Cancelled through the gateway with key " + caller.keyId());
        ctx.status(202).json(Map.of("jobId", state.getJobId(), "message", "Cancel requested: a queued job is skipped, a running one killed"));
    }

    /** {@code GET /v1/jobs?function=F&status=S&limit=N}: the caller's most recently updated jobs first. */
    public void list(Context ctx) {
        Caller caller = Callers.of(ctx);
        String function = ctx.queryParam("function");
        JobPhase phase = phase(ctx.queryParam("status"));
        int limit = limit(ctx.queryParam("limit"));
        List<Map<String, Object>> jobs = states.snapshot().values().stream()
                .filter(s -> function == null || s.getFunction().equals(function))
                .filter(s -> phase == null || s.getPhase() == phase)
                .filter(s -> caller.sees(tenant(s)))
                .sorted(Comparator.comparingLong(JobState::getUpdatedAt).reversed())
                .limit(limit).map(this::describe).toList();
        ctx.json(Map.of("jobs", jobs));
    }

    /**
     * The job's state, if the caller may see it. The view may trail its topic, so a job it has not read yet, or holds as
     * not yet ended, is read again to the topic's end: a call answered here, or a job cancelled through another
     * instance, never shows an older state afterwards.
     *
     * @throws ApiError 404 for an unknown job and another tenant's
     */
    public JobState visible(Caller caller, String id) {
        JobState state = states.get(id).orElse(null);
        if ((state == null || !JobStates.isFinal(state)) && states.refresh(Duration.ofSeconds(5))) {
            state = states.get(id).orElse(state);
        }
        if (state == null || !caller.sees(tenant(state))) {
            throw ApiError.notFound("No job " + id + " (jobs are kept 7 days)");
        }
        return state;
    }

    private JobState current(String id) {
        return states.get(id).orElseThrow();
    }

    /** The state's tenant, or its function's when the writer did not know it. */
    private String tenant(JobState state) {
        if (state.getTenant() != null) {
            return state.getTenant();
        }
        FunctionSpec function = functions.apply(state.getFunction());
        return function == null ? "" : function.getTenant(); // unknown: only admins see it
    }

    private static Instant began(JobState state) {
        return Instant.ofEpochMilli(state.getEventCreatedAt() != null ? state.getEventCreatedAt() : state.getUpdatedAt() - Duration.ofHours(1).toMillis());
    }

    Map<String, Object> describe(JobState state) {
        return JobStates.describe(state, tenant(state));
    }

    private static Map<String, Object> line(LogLine line) {
        return Map.of("stream", line.getStream().name().toLowerCase(Locale.ROOT), "attempt", line.getAttempt(), "sequence", line.getSequence(),
                "line", new String(ResultResponses.bytes(line.getLine()), StandardCharsets.UTF_8));
    }

    private static void event(OutputStream out, String name, Object data) {
        try {
            out.write(("event: " + name + "\ndata: " + JSON.writeValueAsString(data) + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static JobPhase phase(String status) {
        if (status == null || status.isBlank()) {
            return null;
        }
        try {
            return JobPhase.valueOf(status.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("status '" + status + "' is none of " + java.util.Arrays.toString(JobPhase.values()));
        }
    }

    private static int limit(String limit) {
        if (limit == null) {
            return 50;
        }
        try {
            int n = Integer.parseInt(limit.strip());
            if (n >= 1 && n <= MAX_LIST) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw ApiError.badRequest("limit '" + limit + "' must be a whole number from 1 to " + MAX_LIST);
    }
}
