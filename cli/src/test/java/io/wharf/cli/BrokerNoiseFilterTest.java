package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.junit.jupiter.api.Test;

class BrokerNoiseFilterTest {
    private static final String RETRIED = "Invalid sequence number for producer 2 at offset 22 in partition wharf.jobs.default-3: 1 (incoming"
            + " seq. number). Expected sequence 0 for transactions v2 idempotent producer with no existing state.";

    private static final String GAP = "Out of order sequence number for producer 7: 51 (incoming seq. number), 49 (current end sequence number)";

    @Test
    void dropsOnlyTheRetriedSequenceErrorOfTheBroker() {
        LoggerContext context = new LoggerContext();
        BrokerNoiseFilter filter = new BrokerNoiseFilter();
        filter.start();
        context.addTurboFilter(filter);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.setContext(context);
        seen.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(seen);

        Logger broker = context.getLogger("kafka.server.ReplicaManager");
        broker.error("Error processing append operation on partition wharf.jobs.default-3", new OutOfOrderSequenceException(RETRIED));
        broker.error("Error processing append operation on partition wharf.jobs.default-3", new OutOfOrderSequenceException(GAP));
        broker.error("Error processing append operation", new IllegalStateException(RETRIED));
        context.getLogger("io.wharf.worker").error("worker trouble", new OutOfOrderSequenceException(RETRIED));

        assertThat(seen.list).extracting(e -> e.getLoggerName() + ": " + e.getThrowableProxy().getMessage())
                .containsExactly("kafka.server.ReplicaManager: " + GAP, "kafka.server.ReplicaManager: " + RETRIED, "io.wharf.worker: " + RETRIED);
    }
}
