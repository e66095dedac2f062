package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RateLimit;

/**
 * What the dispatcher counts for one function: its token bucket, the jobs it has running and the events it
 * holds back. Stored as 32 fixed bytes per function in the {@code limits} store, written in the same Streams
 * transaction as the jobs it lets out, so a restart or a rebalance resumes from exactly these counts.
 */
final class FunctionState {
    static final int SIZE = 32;

    double tokens;
    long refilledAt;
    int inFlight;
    int pending;
    /** Arrival counter: orders pending events of one priority. */
    long sequence;

    static FunctionState fresh(FunctionSpec spec, long now) {
        FunctionState state = new FunctionState();
        state.tokens = spec.getRateLimit() == null ? 0 : burst(spec.getRateLimit());
        state.refilledAt = now;
        return state;
    }

    static FunctionState decode(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        FunctionState state = new FunctionState();
        state.tokens = buffer.getDouble();
        state.refilledAt = buffer.getLong();
        state.inFlight = buffer.getInt();
        state.pending = buffer.getInt();
        state.sequence = buffer.getLong();
        return state;
    }

    byte[] encode() {
        return ByteBuffer.allocate(SIZE).putDouble(tokens).putLong(refilledAt).putInt(inFlight).putInt(pending).putLong(sequence).array();
    }

    static int burst(RateLimit limit) {
        return Math.max(1, limit.getBurst());
    }

    /** Adds the tokens earned since the last refill, up to the burst. */
    void refill(FunctionSpec spec, long now) {
        RateLimit limit = spec.getRateLimit();
        if (limit != null && now > refilledAt) {
            tokens = Math.min(burst(limit), tokens + (now - refilledAt) * limit.getPerSecond() / 1000.0);
        }
        refilledAt = Math.max(refilledAt, now);
    }

    /** Whether one more job may start now under the function's rate limit and concurrency cap. */
    boolean admits(FunctionSpec spec) {
        return (spec.getRateLimit() == null || tokens >= 1.0)
                && (spec.getMaxConcurrency() == null || inFlight < spec.getMaxConcurrency());
    }

    void take(FunctionSpec spec) {
        if (spec.getRateLimit() != null) {
            tokens -= 1.0;
        }
    }

    /** Milliseconds until the bucket holds one token, for logging and tests; 0 when it does. */
    long millisToNextToken(FunctionSpec spec) {
        RateLimit limit = spec.getRateLimit();
        if (limit == null || tokens >= 1.0 || limit.getPerSecond() <= 0) {
            return 0;
        }
        return (long) Math.ceil((1.0 - tokens) * 1000.0 / limit.getPerSecond());
    }
}
