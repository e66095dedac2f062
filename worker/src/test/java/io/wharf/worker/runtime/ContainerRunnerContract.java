package io.wharf.worker.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ContainerRunner} does, run against each implementation: the payload in, the body out, exit
 * codes, timeouts, kills, a missing image as an outcome, and no container left behind by a run that was abandoned.
 */
public abstract class ContainerRunnerContract {
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    protected final String owner = "contract-" + UUID.randomUUID().toString().substring(0, 8);
    private ContainerRunner runner;

    /** A runner for {@code owner} that can run {@link #image()}. */
    protected abstract ContainerRunner runner(String owner);

    /** An image with a POSIX shell whose {@code cat}, {@code echo}, {@code sleep} and {@code exit} work. */
    protected abstract String image();

    /** Whether a container of the owner is still there. */
    protected abstract boolean anyContainerLeft(String owner);

    @BeforeEach
    void createRunner() {
        runner = runner(owner);
    }

    @AfterEach
    void closeRunner() {
        threads.shutdownNow();
        runner.removeStale();
        runner.close();
    }

    protected RunRequest request(String script, Duration timeout, String payload) {
        return new RunRequest(owner + "-" + UUID.randomUUID().toString().substring(0, 6), "contract", 1, image(), List.of("sh", "-c", script),
                null, Map.of(), 64, 0.5, timeout, false, null, payload.getBytes(StandardCharsets.UTF_8), 1 << 20, null, null, null);
    }

    private static final class Collected implements OutputListener {
        final StringBuffer stdout = new StringBuffer();
        volatile boolean ended;

        @Override
        public void onOutput(boolean stderr, byte[] chunk) {
            if (!stderr) {
                stdout.append(new String(chunk, StandardCharsets.UTF_8));
            }
        }

        @Override
        public void onEnd() {
            ended = true;
        }
    }

    @Test
    void shouldPassThePayloadOnStdinAndKeepStdoutAsTheBody() throws Exception {
        Collected output = new Collected();
        RunOutcome outcome = runner.run(request("cat", Duration.ofSeconds(30), "hello"), output);
        assertThat(outcome.error()).isNull();
        assertThat(outcome.exitCode()).isZero();
        assertThat(new String(outcome.stdout(), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(output.stdout.toString()).as("what the listener saw").isEqualTo("hello");
        assertThat(output.ended).isTrue();
        assertThat(outcome.startedAt()).isPositive();
        assertThat(outcome.exitedAt()).isGreaterThanOrEqualTo(outcome.startedAt());
    }

    @Test
    void shouldReportTheExitCodeAndTheEndOfStderr() throws Exception {
        RunOutcome outcome = runner.run(request("echo broken >&2; exit 3", Duration.ofSeconds(30), ""), OutputListener.NONE);
        assertThat(outcome.exitCode()).isEqualTo(3);
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.stderrTail()).contains("broken");
    }

    @Test
    void shouldKillARunThatOutlivesItsTimeout() throws Exception {
        RunOutcome outcome = runner.run(request("sleep 30", Duration.ofSeconds(1), ""), OutputListener.NONE);
        assertThat(outcome.timedOut()).isTrue();
        assertThat(outcome.exitCode()).isNotEqualTo(0);
    }

    @Test
    void shouldEndARunWhenItsJobIsKilled() throws Exception {
        RunRequest request = request("sleep 60", Duration.ofSeconds(120), "");
        Future<RunOutcome> run = threads.submit(() -> runner.run(request, OutputListener.NONE));
        // Kill until the run ends: the first kill may land before the container exists.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            runner.kill(request.jobId());
            return run.isDone();
        });
        RunOutcome outcome = run.get();
        assertThat(outcome.timedOut()).isFalse();
        assertThat(outcome.exitCode()).isNotEqualTo(0);
    }

    @Test
    void shouldReportAMissingImageAsAnOutcomeNotAnException() throws Exception {
        RunRequest missing = request("cat", Duration.ofSeconds(30), "");
        missing = new RunRequest(missing.jobId(), "contract", 1, "wharf-contract/missing:" + owner, missing.command(), null, Map.of(), 64, 0.5,
                missing.timeout(), false, null, new byte[0], 1 << 20, null, null, null);
        RunOutcome outcome = runner.run(missing, OutputListener.NONE);
        assertThat(outcome.error()).contains("wharf-contract/missing");
        assertThat(outcome.exitCode()).isNull();
    }

    @Test
    void shouldLeaveNoContainerBehindWhenARunIsAbandoned() throws Exception {
        RunRequest request = request("sleep 60", Duration.ofSeconds(120), "");
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        Future<?> run = threads.submit(() -> {
            thread.complete(Thread.currentThread());
            return runner.run(request, OutputListener.NONE);
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> anyContainerLeft(owner));
        thread.get().interrupt();
        await().atMost(Duration.ofSeconds(30)).until(run::isDone);
        await().atMost(Duration.ofSeconds(30)).until(() -> !anyContainerLeft(owner));
        assertThat(runner.removeStale()).isZero();
        threads.awaitTermination(0, TimeUnit.SECONDS);
    }
}
