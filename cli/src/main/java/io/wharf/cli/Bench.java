package io.wharf.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;

import com.github.dockerjava.api.DockerClient;

import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.Timings;
import io.wharf.testkit.LocalImages;
import io.wharf.worker.docker.DockerClients;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Figures, not a test: cold-job latency through Wharf beside {@code docker run --rm -i --network none} of the
 * same image, where Wharf's time goes, and throughput with the worker's slots.
 */
@Command(name = "bench", description = "Measure cold-job latency and throughput on the embedded default beside bare `docker run`.")
final class Bench implements Callable<Integer> {
    @Option(names = "--jobs", defaultValue = "20", description = "Sequential jobs for the latency figures (default ${DEFAULT-VALUE}).")
    int jobs;
    @Option(names = "--burst", defaultValue = "40", description = "Jobs submitted at once for the throughput figure (default ${DEFAULT-VALUE}).")
    int burst;
    @Option(names = "--slots", defaultValue = "4", description = "Worker slots (default ${DEFAULT-VALUE}).")
    int slots;

    @Override
    public Integer call() throws Exception {
        try (DockerClient docker = DockerClients.fromEnvironment()) {
            LocalImages.busybox(docker);
        }
        List<Double> cli = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            long t = System.nanoTime();
            Process p = new ProcessBuilder("docker", "run", "--rm", "-i", "--network", "none", LocalImages.BUSYBOX, "cat")
                    .redirectErrorStream(true).start();
            p.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("docker run failed");
            }
            cli.add((System.nanoTime() - t) / 1e6);
        }
        try (DevCluster cluster = DevCluster.start(slots, false); WharfClient client = new WharfClient(cluster.endpoints())) {
            client.deploy(FunctionSpec.newBuilder().setName("bench-cat").setImage(LocalImages.BUSYBOX).setMemoryMb(32)
                    .setCommand(List.of("cat")).build());
            client.invoke(client.event("bench-cat", new byte[0], "text/plain"), Duration.ofSeconds(60)); // warm the path
            List<Double> e2e = new ArrayList<>();
            List<long[]> parts = new ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                Event event = client.event("bench-cat", "ping".getBytes(StandardCharsets.UTF_8), "text/plain");
                long t = System.nanoTime();
                JobResult r = client.invoke(event, Duration.ofSeconds(60));
                e2e.add((System.nanoTime() - t) / 1e6);
                if (r.getStatus() != JobStatus.SUCCEEDED) {
                    throw new IllegalStateException("bench job " + r.getStatus() + ": " + r.getError());
                }
                Timings x = r.getTimings();
                parts.add(new long[] {
                        x.getEnqueuedAt() - x.getEventCreatedAt(), x.getDequeuedAt() - x.getEnqueuedAt(),
                        x.getCreatedAt() - x.getDequeuedAt(), x.getStartedAt() - x.getCreatedAt(),
                        x.getExitedAt() - x.getStartedAt(), x.getRemovedAt() - x.getExitedAt(), x.getFinishedAt() - x.getRemovedAt()});
            }
            System.out.printf("cold job, median of %d: docker run CLI %.0f ms | wharf end-to-end %.0f ms (p90 %.0f ms) = %.2fx%n",
                    jobs, median(cli), median(e2e), percentile(e2e, 0.9), median(e2e) / median(cli));
            String[] names = {"event->job (dispatcher)", "job->worker", "image check + create", "attach + start",
                    "run", "wait + logs + inspect + remove", "result + commit"};
            for (int k = 0; k < names.length; k++) {
                List<Double> values = new ArrayList<>();
                for (long[] p : parts) {
                    values.add((double) p[k]);
                }
                System.out.printf("  %-32s median %4.0f ms%n", names[k], median(values));
            }
            // Throughput: a burst of jobs at once, from the first send to the last result.
            List<Event> events = new ArrayList<>();
            for (int i = 0; i < burst; i++) {
                events.add(client.event("bench-cat", ("n" + i).getBytes(StandardCharsets.UTF_8), "text/plain"));
            }
            long t = System.nanoTime();
            int done = client.invokeAll(events, Duration.ofMinutes(5));
            double seconds = (System.nanoTime() - t) / 1e9;
            System.out.printf("throughput: %d cold jobs with %d slots in %.1f s = %.1f jobs/s%n", done, slots, seconds, done / seconds);
        }
        return 0;
    }

    private static double median(List<Double> values) {
        return percentile(values, 0.5);
    }

    private static double percentile(List<Double> values, double p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(p * sorted.size())));
    }
}
