package io.wharf.gateway.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.wharf.client.WharfClient;
import io.wharf.ops.JobLogs;
import io.wharf.records.Event;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.records.EventSource;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HttpRequest;
import io.wharf.records.JobResult;

/**
 * Function calls over HTTP: {@code /function/{name}[/{path}]} waits for the job's result and answers with it,
 * {@code /async-function/{name}[/{path}]} answers 202 with the job id at once. Either way the request becomes one
 * event whose {@link HttpRequest} the container sees as {@code WHARF_HTTP_*} variables, owned by the function's
 * tenant, which the caller's key must be (another tenant's function is not found, so names do not leak).
 */
public final class Invocations {
    /** The request attribute holding the log scope of its job, ended with the request. */
    static final String LOGS = "wharf.logs";
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Invocations.class);
    /** Headers a function never sees: the caller's credentials for Wharf, and hop-by-hop ones. */
    private static final Set<String> WITHHELD = Set.of("authorization", "proxy-authorization", "connection", "keep-alive", "transfer-encoding", "te",
            "upgrade", "x-wharf-signature");
    public static final String CALLBACK_URL = "X-Callback-Url";

    private final WharfClient client;
    private final Function<String, FunctionSpec> functions;
    private final int maxBodyBytes;
    private final Duration allowance;
    private final CallbackRequests callbacks;

    public Invocations(WharfClient client, Function<String, FunctionSpec> functions, int maxBodyBytes, Duration allowance,
                       CallbackRequests callbacks) {
        this.client = client;
        this.functions = functions;
        this.maxBodyBytes = maxBodyBytes;
        this.allowance = allowance;
        this.callbacks = callbacks;
    }

    /** {@code ANY /function/{name}[/{path}]}: runs the function and answers with what it printed. */
    public void sync(Context ctx) {
        FunctionSpec function = visible(Callers.of(ctx), ctx.pathParam("name"));
        Event event = event(ctx, function, EventSource.HTTP, null);
        ctx.header(ResultResponses.CALL_ID, event.getId());
        CompletableFuture<JobResult> pending = client.invokeAsync(event, WharfClient.Resend.NEVER); // its id is this request's alone
        Duration wait = longestRun(function).plus(allowance);
        try {
            JobResult result = pending.get(wait.toMillis(), TimeUnit.MILLISECONDS);
            if (!result.getJobId().equals(event.getId())) {
                ctx.header(ResultResponses.REPLAYED, "true"); // the answer of the call that first used its Idempotency-Key
            }
            ResultResponses.write(ctx, result, function);
        } catch (TimeoutException e) {
            pending.cancel(false);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", "no_result_yet");
            body.put("message", "No result within " + wait.toSeconds() + " s; the job goes on: GET /v1/jobs/" + event.getId() + " follows it");
            body.put("jobId", event.getId());
            ctx.status(504).json(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.of(503, "unavailable", "The gateway is stopping; job " + event.getId() + " goes on");
        } catch (ExecutionException e) {
            throw ApiError.of(503, "unavailable", e.getCause().getMessage());
        }
    }

    /** {@code ANY /async-function/{name}[/{path}]}: queues the call and answers 202 with the job id. */
    public void async(Context ctx) {
        FunctionSpec function = visible(Callers.of(ctx), ctx.pathParam("name"));
        String callback = ctx.header(CALLBACK_URL);
        if (callback != null) {
            callbacks.check(callback);
        }
        Event event = event(ctx, function, EventSource.HTTP, callback);
        accepted(ctx, event, WharfClient.Resend.NEVER); // its id is this request's alone
    }

    /** Sends the event and answers 202 with where its status will be. */
    void accepted(Context ctx, Event event, WharfClient.Resend resend) {
        try {
            client.submit(event, resend);
        } catch (IllegalStateException e) {
            throw ApiError.of(503, "unavailable", e.getMessage());
        }
        ctx.header(ResultResponses.CALL_ID, event.getId());
        ctx.header("Location", "/v1/jobs/" + event.getId());
        ctx.status(202).json(Map.of("jobId", event.getId()));
    }

    /**
     * The function named, if the caller may see it.
     *
     * @throws ApiError 404 for an unknown function and for another tenant's
     */
    public FunctionSpec visible(Caller caller, String name) {
        FunctionSpec function = functions.apply(name);
        if (function == null || !caller.sees(function)) {
            throw ApiError.notFound("No function " + name + " (`wharf functions` lists them)");
        }
        return function;
    }

    /** A caller's RSA public key (base64 of its X.509 DER): the job's result is sealed to it, so only the caller reads it. */
    static final String REPLY_KEY = "X-Wharf-Reply-Key";

    /** The event a request makes: its body (within the limits), its method, path, query and headers. */
    Event event(Context ctx, FunctionSpec function, EventSource source, String callback) {
        byte[] body = body(ctx, Math.min(maxBodyBytes, function.getMaxPayloadBytes()), function);
        String contentType = ctx.contentType();
        String id = UUID.randomUUID().toString();
        // The rest of the request's lines name its job (the request's thread is its own; HttpApi's after-handler ends it).
        ctx.attribute(LOGS, JobLogs.of(id, function.getName(), function.getTenant()));
        log.debug("{} {} is job {} of {}", ctx.method(), ctx.path(), id, function.getName());
        return Event.newBuilder()
                .setId(id)
                .setTenant(function.getTenant()) // the key's tenant (or an admin's choice of function), never the request's say
                .setFunction(function.getName())
                .setSource(source)
                .setPayload(ByteBuffer.wrap(body))
                .setContentType(contentType == null || contentType.isBlank() ? "application/octet-stream" : contentType)
                .setIdempotencyKey(ctx.header("Idempotency-Key"))
                .setCallback(callback)
                .setCreatedAt(Instant.now())
                .setHttp(request(ctx, function.getName()))
                .setHeaders(headers(ctx))
                .build();
    }

    /** The event's headers: the request's trace context, and the key its result is to be sealed to, if it names one. */
    private static Map<String, String> headers(Context ctx) {
        Map<String, String> headers = new java.util.HashMap<>(GatewayTraces.carrier(ctx));
        String replyKey = ctx.header(REPLY_KEY);
        if (replyKey != null) {
            try {
                headers.put(PayloadEnvelope.REPLY_KEY_HEADER, PayloadEnvelope.encode(PayloadEnvelope.publicKey(replyKey)));
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest(REPLY_KEY + ": " + e.getMessage() + " (give base64 of the key's X.509 DER: openssl rsa -pubout -outform DER | base64 -w0)");
            }
        }
        return headers;
    }

    private byte[] body(Context ctx, int limit, FunctionSpec function) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            throw tooLarge(declared, limit, function);
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] body = in.readNBytes(limit + 1);
            if (body.length > limit) {
                throw tooLarge(-1, limit, function);
            }
            return body;
        } catch (IOException e) {
            throw ApiError.badRequest("Could not read the request body: " + e.getMessage());
        }
    }

    private ApiError tooLarge(long declared, int limit, FunctionSpec function) {
        String whose = limit == function.getMaxPayloadBytes() ? "function " + function.getName() + "'s maxPayload" : "the gateway's "
                + "wharf.gateway.max.body.bytes (bounded by what wharf.events takes)";
        return ApiError.of(413, "payload_too_large", "The body" + (declared >= 0 ? " of " + declared + " bytes" : "") + " is over " + limit
                + " bytes, " + whose + ". Send a reference to the data (a URL, an object key) instead");
    }

    /** The request as the container will see it: the path after the function's name, raw (still percent-encoded). */
    static HttpRequest request(Context ctx, String function) {
        String uri = ctx.req().getRequestURI();
        String marker = "/" + function;
        int at = uri.indexOf(marker, uri.indexOf("function/"));
        String path = at < 0 ? "/" : uri.substring(at + marker.length());
        Map<String, String> headers = new LinkedHashMap<>();
        for (Enumeration<String> names = ctx.req().getHeaderNames(); names.hasMoreElements(); ) {
            String name = names.nextElement();
            String lower = name.toLowerCase(Locale.ROOT);
            if (!WITHHELD.contains(lower)) {
                headers.merge(lower, String.join(", ", java.util.Collections.list(ctx.req().getHeaders(name))), (a, b) -> a + ", " + b);
            }
        }
        String query = ctx.req().getQueryString();
        return HttpRequest.newBuilder().setMethod(ctx.method().name()).setPath(path.isEmpty() ? "/" : path)
                .setQuery(query == null ? "" : query).setHeaders(headers).build();
    }

    /** The longest a job of the function can take once started: every attempt at its timeout, and the backoffs between. */
    static Duration longestRun(FunctionSpec function) {
        int attempts = function.getRetry() == null ? 1 : Math.max(1, function.getRetry().getMaxAttempts());
        long backoffs = function.getRetry() == null ? 0 : (attempts - 1) * function.getRetry().getMaxBackoffMillis();
        return Duration.ofMillis(attempts * function.getTimeoutMillis() + backoffs);
    }

    /** The routes' HTTP methods: every one a caller may use on a function. */
    public static final List<HandlerType> METHODS = List.of(HandlerType.GET, HandlerType.POST, HandlerType.PUT, HandlerType.PATCH,
            HandlerType.DELETE, HandlerType.HEAD, HandlerType.OPTIONS);
}
