package io.wharf.dispatcher.internals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.kafka.common.utils.Utils;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.records.Event;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.records.FunctionSpec;

/** The checks an event passes before it becomes jobs; each failure names what was wrong and how to fix it. */
final class Validation {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_FAN_OUT = 10_000;
    static final int MAX_CHAIN_DEPTH = 16;

    /** Either an error, or the fan-out elements (null when the event does not fan out). */
    record Checked(String error, List<ByteBuffer> elements) {
        static Checked error(String error) {
            return new Checked(error, null);
        }
    }

    private Validation() {
    }

    static Checked check(Event event, String jobId, FunctionSpec spec) {
        String function = event.getFunction();
        if (spec == null) {
            return Checked.error("Unknown function '" + function + "': deploy it first (./wharf deploy " + function + " --image IMAGE)");
        }
        if (!spec.getEnabled()) {
            return Checked.error("Function '" + function + "' is disabled: enable it to run jobs");
        }
        if (!spec.getTenant().equals(event.getTenant())) {
            return Checked.error("Event " + jobId + " of tenant '" + event.getTenant() + "' may not run function '" + function
                    + "' of tenant '" + spec.getTenant() + "'");
        }
        int payloadSize = event.getPayload().remaining();
        if (payloadSize > spec.getMaxPayloadBytes()) {
            return Checked.error("Payload of " + payloadSize + " bytes exceeds function '" + function + "''s limit of "
                    + spec.getMaxPayloadBytes() + " bytes (maxPayloadBytes)");
        }
        if (event.getPriority() != null && (event.getPriority() < 0 || event.getPriority() > 2)) {
            return Checked.error("Event " + jobId + " has priority " + event.getPriority() + ": use 0 (high), 1 or 2 (low)");
        }
        String depth = event.getHeaders().get(Chains.DEPTH_HEADER);
        if (depth != null && Chains.depth(depth) > MAX_CHAIN_DEPTH) {
            return Checked.error("Event " + jobId + " is " + depth + " functions deep in a chain, more than " + MAX_CHAIN_DEPTH
                    + ": check onSuccess/onFailure for a cycle");
        }
        String contentType = event.getContentType() == null ? "" : event.getContentType().split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (contentType.equals(PayloadEnvelope.CONTENT_TYPE)) {
            return sealed(event, jobId, spec);
        }
        if (spec.getPayloadKey() != null) {
            return Checked.error("Function '" + function + "' takes sealed payloads only (it has a payload key), and event " + jobId + " is in clear: "
                    + "send it with Wharf's client, the CLI or the gateway, which seal it, or seal it yourself (JWE RSA-OAEP-256 + A256GCM)");
        }
        if (!spec.getContentTypes().isEmpty() && spec.getContentTypes().stream().noneMatch(accepted -> matches(accepted, contentType))) {
            return Checked.error("Function '" + function + "' accepts " + spec.getContentTypes() + ", not content type '" + contentType + "'");
        }
        boolean json = contentType.equals("application/json") || contentType.endsWith("+json");
        if (!event.getFanOut() && !(json && !spec.getContentTypes().isEmpty())) {
            return new Checked(null, null);
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(bytes(event.getPayload()));
        } catch (JsonProcessingException e) {
            return Checked.error("Payload of event " + jobId + " is not valid JSON (" + e.getOriginalMessage() + ")"
                    + (event.getFanOut() ? ": a fan-out event carries a JSON array, one element per job" : ""));
        } catch (IOException e) {
            return Checked.error("Payload of event " + jobId + " could not be read as JSON: " + e.getMessage());
        }
        if (!event.getFanOut()) {
            return new Checked(null, null);
        }
        if (tree == null || !tree.isArray() || tree.isEmpty() || tree.size() > MAX_FAN_OUT) {
            return Checked.error("Fan-out event " + jobId + " must carry a JSON array of 1 to " + MAX_FAN_OUT + " elements, one per job");
        }
        List<ByteBuffer> elements = new ArrayList<>(tree.size());
        for (JsonNode element : tree) {
            // A string element is the job's payload as is; anything else is passed as its JSON text.
            String text = element.isTextual() ? element.textValue() : element.toString();
            ByteBuffer payload = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            if (payload.remaining() > spec.getMaxPayloadBytes()) {
                return Checked.error("Element " + elements.size() + " of fan-out event " + jobId + " exceeds maxPayloadBytes");
            }
            elements.add(payload);
        }
        return new Checked(null, elements);
    }

    /**
     * A sealed payload: only its header is readable here, which names the content type sealed inside; that is checked
     * against the function's, and what needs the payload itself (JSON, fan-out) is left to the job.
     */
    private static Checked sealed(Event event, String jobId, FunctionSpec spec) {
        if (event.getFanOut()) {
            return Checked.error("Event " + jobId + " is sealed and asks to fan out: a sealed payload cannot be split here; send one event per element");
        }
        String inner;
        try {
            inner = PayloadEnvelope.sealedContentType(bytes(event.getPayload()));
        } catch (IllegalArgumentException e) {
            return Checked.error("Event " + jobId + " says it is sealed (" + PayloadEnvelope.CONTENT_TYPE + ") but is not: " + e.getMessage());
        }
        String contentType = inner == null ? "" : inner.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!spec.getContentTypes().isEmpty() && spec.getContentTypes().stream().noneMatch(accepted -> matches(accepted, contentType))) {
            return Checked.error("Function '" + event.getFunction() + "' accepts " + spec.getContentTypes() + ", not content type '" + contentType
                    + "' (sealed)");
        }
        return new Checked(null, null);
    }

    private static boolean matches(String accepted, String contentType) {
        String a = accepted.trim().toLowerCase(Locale.ROOT);
        return a.equals("*/*") || a.equals(contentType) || (a.endsWith("/*") && contentType.startsWith(a.substring(0, a.length() - 1)));
    }

    static byte[] bytes(ByteBuffer buffer) {
        return Utils.toArray(buffer);
    }
}
