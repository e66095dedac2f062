package io.wharf.sources.spi;

import io.wharf.records.Trigger;

/** One trigger running on this instance, whatever its source: started once, paused and resumed in place, closed once. */
public interface TriggerRun extends AutoCloseable {
    /** Where a run is: STARTING until it has its share of the source, PAUSED when told, FAILED with a {@link #problem()}. */
    enum State { STARTING, RUNNING, PAUSED, FAILED, STOPPED }

    TriggerRun start();

    /** The definition it runs. */
    Trigger trigger();

    State state();

    /** What went wrong last (a failed transaction, an absent registry), or null while all is well. */
    String problem();

    /** Records of its source not yet taken, on what this instance holds. */
    long lag();

    void pause(boolean pause);

    /** The trigger was deleted (after {@link #close()}): release what its source holds for it, such as a replication slot. */
    default void deleted() {
    }

    /** Stops, committing what it holds, within a bounded time; stopping twice is harmless. */
    @Override
    void close();
}
