package io.wharf.worker.runtime;

/** Receives a container's output as it is written, in chunks that need not end at line breaks. */
public interface OutputListener {
    OutputListener NONE = (stderr, chunk) -> { };

    void onOutput(boolean stderr, byte[] chunk);

    /** The container's output has ended (it exited and everything was read). */
    default void onEnd() {
    }
}
