package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;

/**
 * Chaining: a function's {@code onSuccess} functions receive its result body as their payload (a pipeline),
 * its {@code onFailure} functions a JSON description of the failed result. The chained event's id is
 * {@code <job id>-><function>}, so a replay produces the same id, and a depth header stops cycles.
 */
final class Chains {
    static final String DEPTH_HEADER = "wharf-chain-depth";
    static final String PARENT_HEADER = "wharf-parent-job";
    static final String PARENT_FUNCTION_HEADER = "wharf-parent-function";
    static final String PARENT_STATUS_HEADER = "wharf-parent-status";

    private Chains() {
    }

    static int depth(String header) {
        try {
            return header == null ? 0 : Integer.parseInt(header.trim());
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    static Event event(JobResult result, String target, String tenant, Map<String, String> parentHeaders, long now) {
        Map<String, String> headers = new HashMap<>();
        headers.put(DEPTH_HEADER, String.valueOf(depth(parentHeaders.get(DEPTH_HEADER)) + 1));
        headers.put(PARENT_HEADER, result.getJobId());
        headers.put(PARENT_FUNCTION_HEADER, result.getFunction());
        headers.put(PARENT_STATUS_HEADER, result.getStatus().name());
        // The chained job stays in the trace of the one that ran before it.
        for (String name : java.util.List.of(io.wharf.ops.Traces.TRACEPARENT, io.wharf.ops.Traces.TRACESTATE)) {
            if (parentHeaders.get(name) != null) {
                headers.put(name, parentHeaders.get(name));
            }
        }
        boolean success = result.getStatus() == JobStatus.SUCCEEDED;
        ByteBuffer payload;
        if (success) {
            payload = result.getBody().duplicate();
        } else {
            ObjectNode failure = Validation.JSON.createObjectNode();
            failure.put("jobId", result.getJobId());
            failure.put("function", result.getFunction());
            failure.put("status", result.getStatus().name());
            failure.put("attempt", result.getAttempt());
            if (result.getExitCode() != null) {
                failure.put("exitCode", result.getExitCode());
            }
            failure.put("error", result.getError());
            failure.put("stderrTail", result.getStderrTail());
            payload = ByteBuffer.wrap(failure.toString().getBytes(StandardCharsets.UTF_8));
        }
        return Event.newBuilder()
                .setId(result.getJobId() + "->" + target)
                .setTenant(tenant)
                .setFunction(target)
                .setSource(EventSource.MANUAL)
                .setPayload(payload)
                .setContentType(success ? "application/octet-stream" : "application/json")
                .setHeaders(headers)
                .setCreatedAt(Instant.ofEpochMilli(now))
                .build();
    }
}
