package io.wharf.worker.runtime;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A runner without a container engine, for unit tests of what runs on top of the SPI. It understands the tiny
 * shell the contract tests use ({@code sh -c "cat"}, {@code "echo X"}, {@code "echo X >&2"}, {@code "exit N"},
 * {@code "sleep N"}, joined by {@code "; "}), honours timeouts and kills, and knows only the images it was given.
 * A test may script an outcome outright ({@link #outcomes}), for what only an engine produces (an OOM kill).
 */
public final class FakeContainerRunner implements ContainerRunner {
    private final Set<String> images;
    private final Map<String, CountDownLatch> live = new ConcurrentHashMap<>();
    /** Every request run, in order. */
    public final List<RunRequest> requests = new CopyOnWriteArrayList<>();
    /** Job ids whose container was killed. */
    public final List<String> kills = new CopyOnWriteArrayList<>();
    /** An outcome to return instead of running the script; null runs it. */
    public volatile Function<RunRequest, RunOutcome> outcomes = r -> null;

    public FakeContainerRunner(Set<String> images) {
        this.images = images;
    }

    /** Whether a container runs the job right now. */
    public boolean running(String jobId) {
        return live.containsKey(jobId);
    }

    @Override
    public RunOutcome run(RunRequest request, OutputListener output) throws InterruptedException {
        requests.add(request);
        RunOutcome scripted = outcomes.apply(request);
        if (scripted != null) {
            return scripted;
        }
        if (!images.contains(request.image())) {
            return RunOutcome.failedToRun("Image " + request.image() + " was not found", 0);
        }
        CountDownLatch killed = new CountDownLatch(1);
        live.put(request.jobId(), killed);
        long started = System.currentTimeMillis();
        StringBuilder stdout = new StringBuilder();
        StringBuilder stderr = new StringBuilder();
        try {
            int exit = 0;
            boolean timedOut = false;
            List<String> argv = request.command();
            String script = argv.size() == 3 && argv.get(0).equals("sh") && argv.get(1).equals("-c") ? argv.get(2) : String.join(" ", argv);
            for (String step : script.split("; ")) {
                if (step.equals("cat")) {
                    stdout.append(new String(request.payload(), StandardCharsets.UTF_8));
                } else if (step.startsWith("echo ") && step.endsWith(" >&2")) {
                    stderr.append(step, 5, step.length() - 4).append('\n');
                } else if (step.startsWith("echo ")) {
                    stdout.append(step.substring(5)).append('\n');
                } else if (step.startsWith("exit ")) {
                    exit = Integer.parseInt(step.substring(5).trim());
                    break;
                } else if (step.startsWith("sleep ")) {
                    long millis = (long) (Double.parseDouble(step.substring(6).trim()) * 1000);
                    long limit = request.timeout().toMillis() - (System.currentTimeMillis() - started);
                    if (killed.await(Math.min(millis, Math.max(0, limit)), TimeUnit.MILLISECONDS)) {
                        exit = 137;
                        break;
                    }
                    if (millis > limit) {
                        timedOut = true;
                        exit = 137;
                        break;
                    }
                } else {
                    stderr.append("sh: ").append(step).append(": not found\n");
                    exit = 127;
                    break;
                }
            }
            byte[] out = stdout.toString().getBytes(StandardCharsets.UTF_8);
            output.onOutput(false, out);
            output.onOutput(true, stderr.toString().getBytes(StandardCharsets.UTF_8));
            output.onEnd();
            boolean truncated = out.length > request.maxBodyBytes();
            byte[] body = truncated ? java.util.Arrays.copyOf(out, request.maxBodyBytes()) : out;
            long exited = System.currentTimeMillis();
            return new RunOutcome(exit, timedOut, false, body, truncated, stderr.toString(), null, "sha256:fake-" + request.image(),
                    0, started, started, exited, exited);
        } finally {
            live.remove(request.jobId());
        }
    }

    @Override
    public void kill(String jobId) {
        CountDownLatch killed = live.get(jobId);
        if (killed != null) {
            kills.add(jobId);
            killed.countDown();
        }
    }

    @Override
    public int removeStale() {
        int left = live.size();
        live.values().forEach(CountDownLatch::countDown);
        return left;
    }
}
