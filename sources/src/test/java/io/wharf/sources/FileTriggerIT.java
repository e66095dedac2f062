package io.wharf.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.client.Triggers;
import io.wharf.embedded.TempDirs;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.topics.Topics;

/** Files dropped in a directory (some still being written) run one job each and move to done/ or failed/, none twice across a restart. */
class FileTriggerIT {
    private SourcesStack stack;
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        stack = SourcesStack.shared();
        dir = Files.createTempDirectory("wharf-drop-");
    }

    @AfterEach
    void tearDown() {
        TempDirs.delete(dir);
    }

    private static List<String> names(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private List<JobResult> results(String function) {
        return stack.all(Topics.RESULTS, JobResult.class, r -> r.getFunction().equals(function));
    }

    private void drop(String name, int size) throws Exception {
        Path partial = dir.resolve(".partial-" + name); // dot files are not taken: written whole, then renamed in
        Files.write(partial, "x".repeat(size).getBytes(StandardCharsets.UTF_8));
        Files.move(partial, dir.resolve(name));
    }

    @Test
    void everyFileRunsOneJobAndEndsInDoneOrFailedNoneTwiceAcrossARestart() throws Exception {
        String function = stack.deployScript("files", "case \"$WHARF_EVENT_FILE_NAME\" in fail-*) exit 3;; esac; echo \"$WHARF_EVENT_FILE_NAME $(wc -c)\"");
        String name = "drop-" + stack.suffix;
        stack.client.triggers().create(Triggers.fileTrigger(name, function, "default", dir.toString(), "*.txt", Duration.ofMillis(800)));
        ScheduledExecutorService slowWriter = Executors.newSingleThreadScheduledExecutor();
        try {
            Sources first = stack.startSources("files-first");
            for (int i = 0; i < 45; i++) {
                drop((i % 20 == 7 ? "fail-" : "f-") + i + ".txt", 100 + i);
            }
            // Five files written a chunk every 300 ms for 3 s: never taken before they stopped growing.
            for (int i = 45; i < 50; i++) {
                OutputStream out = Files.newOutputStream(dir.resolve("slow-" + i + ".txt"));
                AtomicInteger chunks = new AtomicInteger();
                slowWriter.scheduleAtFixedRate(() -> {
                    try {
                        if (chunks.incrementAndGet() <= 10) {
                            out.write("y".repeat(100).getBytes(StandardCharsets.UTF_8));
                            out.flush();
                        } else {
                            out.close();
                        }
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, 0, 300, TimeUnit.MILLISECONDS);
            }
            await().atMost(Duration.ofSeconds(90)).until(() -> results(function).size() >= 20);
            first.close(); // what it claimed and did not finish stays in processing/ for the next instance
            for (int i = 50; i < 100; i++) {
                drop((i % 20 == 7 ? "fail-" : "f-") + i + ".txt", 100 + i);
            }
            try (Sources second = stack.startSources("files-second")) {
                await().atMost(Duration.ofSeconds(180)).until(() -> names(dir.resolve("done")).size() + names(dir.resolve("failed")).size() >= 100);

                assertThat(names(dir)).as("files left to take").isEmpty();
                assertThat(names(dir.resolve(".wharf/processing"))).as("files left in processing").isEmpty();
                assertThat(names(dir.resolve("failed"))).containsExactlyInAnyOrder("fail-7.txt", "fail-27.txt", "fail-67.txt", "fail-87.txt");
                assertThat(names(dir.resolve("done"))).hasSize(96);
                await().atMost(Duration.ofSeconds(30)).until(() -> results(function).size() >= 100);
                List<JobResult> results = results(function);
                assertThat(results).as("one job per file").hasSize(100);
                Map<String, String> outputs = results.stream().filter(r -> r.getStatus() == JobStatus.SUCCEEDED)
                        .map(r -> StandardCharsets.UTF_8.decode(r.getBody()).toString().trim().split(" "))
                        .collect(Collectors.toMap(parts -> parts[0], parts -> parts[1]));
                assertThat(outputs).hasSize(96).containsEntry("f-0.txt", "100").containsEntry("f-99.txt", "199")
                        .containsEntry("slow-45.txt", "1000").containsEntry("slow-49.txt", "1000");
            }
        } finally {
            slowWriter.shutdownNow();
            stack.client.triggers().delete(name);
        }
    }
}
