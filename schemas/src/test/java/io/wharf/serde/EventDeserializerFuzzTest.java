package io.wharf.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.apache.kafka.common.errors.SerializationException;

import io.wharf.records.Event;
import io.wharf.records.Schedule;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Whatever bytes arrive on {@code wharf.events} (any client can write there), the deserializer gives an
 * {@link Event} or a {@link SerializationException} naming the record, which the dispatcher dead-letters: nothing
 * else escapes, and no length field inside the bytes makes it allocate beyond the record.
 */
class EventDeserializerFuzzTest {
    private static final InMemorySchemaRegistryClient REGISTRY = new InMemorySchemaRegistryClient();
    private static final byte[] VALID = new AvroSerializer<Event>(REGISTRY).serialize("wharf.events", Records.event("e-1"));
    private static final byte[] SCHEDULE = new AvroSerializer<Schedule>(REGISTRY).serialize("wharf.schedules", Schedule.newBuilder().setId("s")
            .setFunction("f").setCron("* * * * *").setCreatedAt(java.time.Instant.EPOCH).build());
    private final AvroDeserializer<Event> deserializer = new AvroDeserializer<>(REGISTRY, Event.class);

    @Property(tries = 3000)
    void anyRecordDecodesOrIsRefusedWithASerializationException(@ForAll("records") byte[] record) {
        try {
            Event event = deserializer.deserialize("wharf.events", record);
            assertThat(event).isNotNull();
        } catch (SerializationException expected) {
            assertThat(expected.getMessage()).contains("wharf.events");
        }
    }

    @Provide
    Arbitrary<byte[]> records() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(400);
        Arbitrary<byte[]> flipped = Combinators.combine(Arbitraries.integers().between(0, VALID.length - 1), Arbitraries.bytes())
                .as((at, value) -> {
                    byte[] copy = VALID.clone();
                    copy[at] = value;
                    return copy;
                });
        Arbitrary<byte[]> cut = Arbitraries.integers().between(0, VALID.length).map(n -> Arrays.copyOf(VALID, n));
        Arbitrary<byte[]> validHeaderRandomBody = Arbitraries.bytes().array(byte[].class).ofMaxSize(400)
                .map(body -> ByteBuffer.allocate(5 + body.length).put(Arrays.copyOf(VALID, 5)).put(body).array());
        // A length field that claims far more than the record holds (Avro's zig-zag varint of a huge count).
        Arbitrary<byte[]> hugeLength = Arbitraries.integers().between(5, VALID.length - 1).map(at -> {
            byte[] copy = Arrays.copyOf(VALID, VALID.length + 5);
            System.arraycopy(new byte[] {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f}, 0, copy, at, 5);
            return copy;
        });
        Arbitrary<byte[]> otherRecord = Arbitraries.just(SCHEDULE);
        return Arbitraries.oneOf(random, flipped, cut, validHeaderRandomBody, hugeLength, otherRecord);
    }
}
