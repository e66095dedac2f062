package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RateLimit;
import io.wharf.records.TenantSpec;

/**
 * What the dispatcher counts for one function or tenant: its token bucket, the jobs it has running, the jobs
 * it holds back and its delayed jobs waiting for their time. Stored as 36 fixed bytes per owner (32 before delayed
 * jobs were counted: those read as none) in a limits store, written in the same Streams transaction as the jobs
 * it lets out, so a restart or a rebalance resumes from exactly these counts.
 */
final class LimitState {
    static final int SIZE = 36;

    /** The limits of a function or a tenant. */
    record Limits(RateLimit rate, Integer maxConcurrency, int maxPending) {
        static Limits of(FunctionSpec spec) {
            return new Limits(spec.getRateLimit(), spec.getMaxConcurrency(), spec.getMaxPending());
        }

        static Limits of(TenantSpec spec) {
            return new Limits(spec.getRateLimit(), spec.getMaxConcurrency(), spec.getMaxPending());
        }

        boolean any() {
            return rate != null || maxConcurrency != null;
        }
    }

    double tokens;
    long refilledAt;
    int inFlight;
    int pending;
    /** Arrival counter: orders held jobs of one priority. */
    long sequence;
    /** Delayed events' jobs waiting for their time: they count against maxPending with the held ones. */
    int delayed;

    static LimitState fresh(Limits limits, long now) {
        LimitState state = new LimitState();
        state.tokens = limits.rate() == null ? 0 : burst(limits.rate());
        state.refilledAt = now;
        return state;
    }

    static LimitState decode(byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        LimitState state = new LimitState();
        state.tokens = buffer.getDouble();
        state.refilledAt = buffer.getLong();
        state.inFlight = buffer.getInt();
        state.pending = buffer.getInt();
        state.sequence = buffer.getLong();
        state.delayed = buffer.remaining() >= 4 ? buffer.getInt() : 0;
        return state;
    }

    byte[] encode() {
        return ByteBuffer.allocate(SIZE).putDouble(tokens).putLong(refilledAt).putInt(inFlight).putInt(pending).putLong(sequence).putInt(delayed)
                .array();
    }

    static int burst(RateLimit limit) {
        return Math.max(1, limit.getBurst());
    }

    /** Adds the tokens earned since the last refill, up to the burst. */
    void refill(Limits limits, long now) {
        RateLimit rate = limits.rate();
        if (rate != null && now > refilledAt) {
            tokens = Math.min(burst(rate), tokens + (now - refilledAt) * rate.getPerSecond() / 1000.0);
        }
        refilledAt = Math.max(refilledAt, now);
    }

    /** Whether one more job may start now under the rate limit and the concurrency cap. */
    boolean admits(Limits limits) {
        return (limits.rate() == null || tokens >= 1.0) && (limits.maxConcurrency() == null || inFlight < limits.maxConcurrency());
    }

    void take(Limits limits) {
        if (limits.rate() != null) {
            tokens -= 1.0;
        }
    }
}
