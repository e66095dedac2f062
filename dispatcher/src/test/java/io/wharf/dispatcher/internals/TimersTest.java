package io.wharf.dispatcher.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.serde.SchemaRegistryException;

/** Due timers: each deleted only once handled, a failing one set aside, the rest still fired. */
class TimersTest {
    private Timers timers;
    private final List<String> handled = new ArrayList<>();
    private final List<String> poisoned = new ArrayList<>();

    @BeforeEach
    void store() {
        KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("timers"), Serdes.Bytes(),
                Serdes.ByteArray()).withLoggingDisabled().build();
        store.init(new MockProcessorContext<>().getStateStoreContext(), store);
        timers = new Timers(store);
        timers.schedule(10, Timers.Kind.JOB, "a", new byte[] {1});
        timers.schedule(20, Timers.Kind.JOB, "b", new byte[] {2});
        timers.schedule(30, Timers.Kind.JOB, "c", new byte[] {3});
        timers.schedule(500, Timers.Kind.JOB, "later", new byte[] {4});
    }

    @Test
    void shouldFireTheRestWhenOneTimerFailsAndSetTheFailingOneAside() {
        timers.fire(100, 10, t -> {
            if (t.id().equals("b")) {
                throw new IllegalStateException("cannot handle b");
            }
            handled.add(t.id());
        }, (t, e) -> poisoned.add(t.id()));
        assertThat(handled).containsExactly("a", "c");
        assertThat(poisoned).containsExactly("b");
        timers.fire(100, 10, t -> handled.add(t.id()), (t, e) -> poisoned.add(t.id()));
        assertThat(handled).as("each fired once; the later one is not due").containsExactly("a", "c");
    }

    @Test
    void shouldKeepEveryTimerNotYetHandledWhenTheRegistryCannotAnswer() {
        assertThatThrownBy(() -> timers.fire(100, 10, t -> {
            if (t.id().equals("b")) {
                throw new SchemaRegistryException("registry away", null, true);
            }
            handled.add(t.id());
        }, (t, e) -> poisoned.add(t.id()))).isInstanceOf(SchemaRegistryException.class);
        assertThat(poisoned).isEmpty();
        timers.fire(100, 10, t -> handled.add(t.id()), (t, e) -> poisoned.add(t.id()));
        assertThat(handled).as("a went out before the failure; b and c fire on the next tick").containsExactly("a", "b", "c");
    }
}
