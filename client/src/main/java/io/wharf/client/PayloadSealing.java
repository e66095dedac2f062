package io.wharf.client;

import java.nio.ByteBuffer;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

import org.apache.kafka.common.utils.Utils;

import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.secrets.PayloadEnvelope;

/**
 * Seals an event's payload to its function's payload key, if it has one, before the event is written: what the client
 * sends (and so the CLI and the gateway) reaches Kafka as ciphertext. An event already sealed (its content type
 * {@code application/jose}) is left as it is. The keys come from a view of {@code wharf.functions} started on first
 * use, or from the lookup a gateway gives (it has its own view).
 */
final class PayloadSealing implements AutoCloseable {
    private final Supplier<TopicView<FunctionSpec>> views;
    private final Map<String, RSAPublicKey> parsed = new ConcurrentHashMap<>();
    private volatile Function<String, String> keys;
    private TopicView<FunctionSpec> view;

    PayloadSealing(Supplier<TopicView<FunctionSpec>> views) {
        this.views = views;
        this.keys = this::fromView;
    }

    /** Finds payload keys (PEM, null for none) with {@code keys} instead of a view of its own. */
    void keys(Function<String, String> keys) {
        this.keys = keys;
    }

    Event seal(Event event) {
        if (PayloadEnvelope.CONTENT_TYPE.equals(event.getContentType())) {
            return event;
        }
        String pem = keys.apply(event.getFunction());
        if (pem == null) {
            return event;
        }
        return PayloadEnvelope.sealed(event, key(pem));
    }

    /** A schedule's payload sealed as its events' would be: each run's event carries it as it is. */
    io.wharf.records.Schedule seal(io.wharf.records.Schedule schedule) {
        String pem = PayloadEnvelope.CONTENT_TYPE.equals(schedule.getContentType()) ? null : keys.apply(schedule.getFunction());
        if (pem == null) {
            return schedule;
        }
        byte[] sealed = PayloadEnvelope.seal(Utils.toArray(schedule.getPayload().duplicate()), schedule.getContentType(), key(pem));
        return io.wharf.records.Schedule.newBuilder(schedule).setPayload(ByteBuffer.wrap(sealed)).setContentType(PayloadEnvelope.CONTENT_TYPE).build();
    }

    private RSAPublicKey key(String pem) {
        return parsed.computeIfAbsent(pem, PayloadEnvelope::publicKey);
    }

    /** The function's key from the view; one deployed a moment ago is found by reading the topic to its end once more. */
    private synchronized String fromView(String function) {
        if (view == null) {
            view = views.get();
            try {
                view.awaitCaughtUp(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return view.get(function).or(() -> view.refresh(Duration.ofSeconds(5)) ? view.get(function) : Optional.empty())
                .map(FunctionSpec::getPayloadKey).orElse(null);
    }

    @Override
    public synchronized void close() {
        if (view != null) {
            view.close();
        }
    }
}
