package io.wharf.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.slf4j.Marker;

/**
 * Keeps one retried, harmless broker error out of the embedded broker's output. With transactions v2 the broker
 * rejects a batch whose sequence is not 0 while the producer has no state on that partition yet (the batch before
 * it is still being verified against the transaction), and logs it as an ERROR; the producer retries the batch in
 * order and nothing is lost or doubled. Every other broker error still shows.
 */
public final class BrokerNoiseFilter extends TurboFilter {
    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level == Level.ERROR && t instanceof OutOfOrderSequenceException && "kafka.server.ReplicaManager".equals(logger.getName())
                && t.getMessage() != null && t.getMessage().contains("transactions v2 idempotent producer with no existing state")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
