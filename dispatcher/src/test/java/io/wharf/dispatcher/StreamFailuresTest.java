package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

import io.wharf.serde.SchemaRegistryException;

class StreamFailuresTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final List<Long> pauses = new ArrayList<>();
    private final StreamFailures failures = new StreamFailures(now::get, (millis, closing) -> {
        pauses.add(millis);
        now.addAndGet(millis);
    }, () -> false);

    private static StreamsException registryAway() {
        return new StreamsException(new SchemaRegistryException("Schema registry unavailable: connection refused", null, true));
    }

    @Test
    void aThreadFailingOverAndOverIsReplacedAfterPausesThatDoubleUpToTheCeiling() {
        for (int i = 0; i < 10; i++) {
            assertThat(failures.handle(registryAway())).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
            now.addAndGet(50); // the new thread fails again at once
        }
        assertThat(pauses).startsWith(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L).endsWith(30_000L);
    }

    @Test
    void aThreadThatRanAWhileStartsThePausesOver() {
        failures.handle(registryAway());
        failures.handle(registryAway());
        now.addAndGet(StreamFailures.CALM_MILLIS + 1);
        failures.handle(registryAway());
        assertThat(pauses).containsExactly(500L, 1_000L, 500L);
    }

    @Test
    void aFailureThatCannotRecoverStopsTheDispatcher() {
        assertThat(failures.handle(new StreamsException(new TopicAuthorizationException("not allowed"))))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        assertThat(pauses).isEmpty();
    }
}
