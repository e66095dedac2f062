package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.wharf.embedded.Ports;

/** A worker's lifecycle without a broker: closing one that never started is prompt and leaves it stopped. */
class WorkerStateTest {

    @Test
    void shouldCloseAWorkerThatNeverStartedPromptly() {
        Worker worker = new Worker(Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + Ports.free(),
                WorkerConfig.REGISTRY_URL_CONFIG, "http://127.0.0.1:" + Ports.free() + "/apis/ccompat/v7"));
        assertThat(worker.state()).isEqualTo(Worker.State.CREATED);
        assertTimeoutPreemptively(Duration.ofSeconds(20), worker::close);
        assertThat(worker.state()).isEqualTo(Worker.State.STOPPED);
        assertThat(worker.awaitStop(Duration.ZERO)).isTrue();
        worker.close(); // twice is harmless
    }
}
