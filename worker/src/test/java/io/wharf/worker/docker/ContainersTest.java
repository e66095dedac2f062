package io.wharf.worker.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FIFO helpers on real FIFOs. */
class ContainersTest {
    @TempDir
    Path dir;

    @Test
    void aWriterWaitingForAReaderThatIsDeadIsLetGo() throws IOException {
        Path go = dir.resolve("go");
        Containers.mkfifo(go);
        // As a pre-started container's shim that died: nobody ever opens the FIFO for reading.
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (FileOutputStream out = new FileOutputStream(go.toFile())) {
                out.write("job-1 1\n".getBytes());
            } catch (IOException e) {
                // no reader left by the time it wrote: what matters is that it returned
            }
        }, Containers.PIPES);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !writer.isDone()); // blocked in its open

        Containers.releaseWriter(go);

        await("the writer's open returns and its thread is free").atMost(Duration.ofSeconds(5)).until(writer::isDone);
    }

    @Test
    void releasingAFifoThatIsGoneIsQuiet() {
        Containers.releaseWriter(dir.resolve("gone"));
        assertThat(dir.resolve("gone")).doesNotExist();
    }
}
