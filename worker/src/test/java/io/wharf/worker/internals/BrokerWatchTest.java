package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.junit.jupiter.api.Test;

class BrokerWatchTest {
    private final AtomicLong nanos = new AtomicLong();
    private final AtomicLong responses = new AtomicLong();
    private final Metric metric = new Metric() {
        @Override
        public MetricName metricName() {
            return new MetricName("response-total", "consumer-metrics", "", Map.of());
        }

        @Override
        public Object metricValue() {
            return (double) responses.get();
        }
    };
    private final BrokerWatch watch = new BrokerWatch(() -> Map.of(metric.metricName(), metric), 3_000, nanos::get);

    private void after(long millis) {
        nanos.addAndGet(millis * 1_000_000L);
        watch.check();
    }

    @Test
    void shouldGoOnWhileBrokersAnswer() {
        for (int i = 0; i < 10; i++) {
            responses.incrementAndGet();
            after(1_000);
        }
    }

    @Test
    void shouldFailOnlyOnceNoBrokerAnsweredForLongerThanTheTimeoutNamingTheSetting() {
        after(1_000);
        after(1_000);
        assertThatCode(() -> after(1_000)).as("3 s of silence: at the timeout, not past it").doesNotThrowAnyException();
        responses.incrementAndGet();
        after(1_000);
        after(1_000);
        after(1_000);
        after(1_000);
        assertThatThrownBy(() -> after(1_000)).isInstanceOf(BrokerWatch.BrokerLostException.class)
                .hasMessageContaining("wharf.worker.broker.timeout.ms");
    }
}
