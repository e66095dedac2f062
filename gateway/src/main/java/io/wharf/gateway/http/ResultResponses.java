package io.wharf.gateway.http;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.kafka.common.utils.Utils;

import io.javalin.http.Context;
import io.wharf.records.FunctionSpec;
import io.wharf.records.HttpResponseMode;
import io.wharf.records.JobResult;

/**
 * A job's final result as the answer to the call that started it: the output with 200 (or the status and headers
 * a CGI-style function printed), or a JSON body saying why not, with the status that tells a client what to do:
 * 502 the function failed or ran out of memory, 504 it timed out, 429 it is at its limits (retry after a while),
 * 400 the event was refused, 503 it waited past its maximum age, 409 it was cancelled.
 */
public final class ResultResponses {
    public static final String CALL_ID = "X-Call-Id";
    /** The CPU seconds and the peak memory (bytes) the call's container used, when measured. */
    public static final String CPU_SECONDS = "X-Wharf-Cpu-Seconds";
    public static final String PEAK_MEMORY = "X-Wharf-Peak-Memory-Bytes";
    /** Set when the answer is an earlier call's, made with the same {@code Idempotency-Key} (its job is the {@link #CALL_ID}). */
    public static final String REPLAYED = "Idempotent-Replayed";

    private ResultResponses() {
    }

    public static void write(Context ctx, JobResult result, FunctionSpec function) {
        ctx.header(CALL_ID, result.getJobId());
        if (result.getUsage() != null) {
            // What the call cost, as Lambda reports its billed duration and memory beside the answer.
            ctx.header(CPU_SECONDS, seconds(result.getUsage().getCpuSeconds()));
            ctx.header(PEAK_MEMORY, Long.toString(result.getUsage().getPeakMemoryBytes()));
        }
        byte[] body = bytes(result.getBody());
        switch (result.getStatus()) {
            case SUCCEEDED -> succeeded(ctx, result, function, body);
            case FAILED, OOM_KILLED -> failure(ctx, 502, result);
            case TIMED_OUT -> failure(ctx, 504, result);
            case THROTTLED -> {
                ctx.header("Retry-After", String.valueOf(retryAfterSeconds(function)));
                failure(ctx, 429, result);
            }
            case REJECTED -> failure(ctx, 400, result);
            case EXPIRED -> failure(ctx, 503, result);
            case CANCELLED -> failure(ctx, 409, result);
        }
    }

    /** Seconds to the millisecond, as {@code %.3f} prints them, without a Formatter: that was a tenth of a call's handling. */
    static String seconds(double value) {
        return Double.isFinite(value) ? BigDecimal.valueOf(value).setScale(3, RoundingMode.HALF_UP).toPlainString() : "0.000";
    }

    private static void succeeded(Context ctx, JobResult result, FunctionSpec function, byte[] body) {
        if (result.getBodyTruncated()) {
            ctx.header("X-Wharf-Body-Truncated", "true");
        }
        // An HTTP-server function's output is its server's response, which the worker wrote in CGI form.
        if (function != null && (function.getHttpResponse() == HttpResponseMode.CGI || function.getHttpPort() != null)) {
            var cgi = Cgi.parse(body);
            if (cgi.isPresent()) {
                ctx.status(cgi.get().status());
                cgi.get().headers().forEach(ctx::header);
                ctx.result(cgi.get().body());
                return;
            }
        }
        ctx.status(200).contentType(isText(body) ? "text/plain; charset=utf-8" : "application/octet-stream").result(body);
    }

    private static void failure(Context ctx, int status, JobResult result) {
        ctx.status(status).json(failureBody(result));
    }

    /** What a failed call says: the fields a caller needs to see why, whatever route it took. */
    public static Map<String, Object> failureBody(JobResult result) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", result.getStatus().name());
        body.put("jobId", result.getJobId());
        body.put("exitCode", result.getExitCode());
        body.put("stderrTail", result.getStderrTail());
        body.put("reason", result.getError());
        body.put("usage", io.wharf.rules.JobStates.usage(result.getUsage()));
        return body;
    }

    /** When a throttled call may try again: one token of the function's rate limit, at least a second. */
    static long retryAfterSeconds(FunctionSpec function) {
        if (function == null || function.getRateLimit() == null || function.getRateLimit().getPerSecond() <= 0) {
            return 1;
        }
        return Math.max(1, (long) Math.ceil(1 / function.getRateLimit().getPerSecond()));
    }

    /** The buffer's bytes from its position (which stays), none for no buffer. */
    public static byte[] bytes(ByteBuffer buffer) {
        return buffer == null ? new byte[0] : Utils.toArray(buffer);
    }

    private static boolean isText(byte[] body) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(body));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
