package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import io.wharf.records.LogLine;
import io.wharf.records.LogStream;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.InMemorySchemaRegistryClient;
import io.wharf.topics.Topics;

class LogShipperTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final MockProducer<String, byte[]> producer = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());

    private LogShipper shipper(long maxBytes) {
        return new LogShipper("job-1", "fn", 1, maxBytes, producer, new AvroSerializer<>(registry));
    }

    private List<LogLine> shipped() {
        AvroDeserializer<LogLine> d = new AvroDeserializer<>(registry, LogLine.class);
        return producer.history().stream().peek(r -> assertThat(r.key()).isEqualTo("job-1"))
                .map(r -> d.deserialize(Topics.LOGS, r.value())).toList();
    }

    private static String text(LogLine l) {
        return StandardCharsets.UTF_8.decode(l.getLine().duplicate()).toString();
    }

    @Test
    void shouldCutChunksIntoLinesPerStreamKeepingOrder() {
        LogShipper s = shipper(1024);
        s.onOutput(false, "hel".getBytes());
        s.onOutput(true, "err one\nerr ".getBytes());
        s.onOutput(false, "lo\nworld".getBytes());
        s.onEnd();
        assertThat(shipped()).extracting(l -> l.getStream() + ":" + text(l))
                .containsExactly("STDERR:err one", "STDOUT:hello", "STDOUT:world", "STDERR:err ");
        assertThat(shipped()).extracting(LogLine::getSequence).containsExactly(0L, 1L, 2L, 3L);
    }

    @Test
    void shouldSplitOverlongLines() {
        LogShipper s = shipper(1 << 20);
        s.onOutput(false, "x".repeat(LogShipper.MAX_LINE_BYTES + 10).getBytes());
        s.onEnd();
        assertThat(shipped()).extracting(l -> l.getLine().remaining()).containsExactly(LogShipper.MAX_LINE_BYTES, 10);
    }

    @Test
    void shouldStopAtTheCapWithoutHolesAndSayWhatWasDropped() {
        LogShipper s = shipper(10);
        s.onOutput(false, "12345678\nabcdefgh\nz\n".getBytes());
        s.onEnd();
        List<LogLine> lines = shipped();
        assertThat(lines).extracting(LogShipperTest::text).first().isEqualTo("12345678");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1).getStream()).isEqualTo(LogStream.SYSTEM);
        assertThat(text(lines.get(1))).contains("dropped 11 bytes in 2 lines");
        assertThat(s.droppedBytes()).isEqualTo(11);
    }

    @Test
    void shouldEndWithALineSayingHowManyLinesTheBrokersNeverGot() {
        MockProducer<String, byte[]> away = new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
        LogShipper s = new LogShipper("job-1", "fn", 1, 1024, away, new AvroSerializer<>(registry));
        s.onOutput(false, "one\ntwo\n".getBytes());
        away.errorNext(new org.apache.kafka.common.errors.TimeoutException("Expiring 1 record: delivery.timeout.ms passed"));
        away.errorNext(new org.apache.kafka.common.errors.TimeoutException("Expiring 1 record: delivery.timeout.ms passed"));
        s.onEnd();
        AvroDeserializer<LogLine> d = new AvroDeserializer<>(registry, LogLine.class);
        LogLine last = d.deserialize(Topics.LOGS, away.history().getLast().value());
        assertThat(last.getStream()).isEqualTo(LogStream.SYSTEM);
        assertThat(text(last)).contains("2 lines of this attempt's log were lost");
        assertThat(s.lostLines()).isEqualTo(2);
    }
}
