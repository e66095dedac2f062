package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.testkit.Scrape;
import io.wharf.worker.runtime.Labels;

/** Stopping and starting workers: SIGTERM drains, a restart cleans up what a crash left. */
class WorkerLifecycleIT {
    private final WorkerHarness harness = new WorkerHarness(1);

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void aWorkerProcessServesItsMetricsAndReadinessOnItsManagementPort() throws Exception {
        int port = io.wharf.embedded.Ports.free();
        String id = "managed-" + harness.pool;
        Process process = harness.startWorkerProcess(id, 2, Map.of(WorkerConfig.MANAGEMENT_PORT_CONFIG, port));
        try {
            // Ready once the group gave it its share; a cooperative rebalance may hand the partition over in a second round.
            HttpResponse<String> ready = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> get(port, "/readyz"), r -> r.statusCode() == 200 && r.body().contains("partitions [0]"));
            assertThat(ready.body()).contains("\"name\":\"broker\"", "\"name\":\"assignment\"", "partitions [0]", "\"name\":\"container engine\"");
            FunctionSpec fn = harness.function(harness.pool + "-metered").setCommand(List.of("cat")).build();
            harness.submit(harness.job(harness.pool + "-metered-1", fn, "x".getBytes(StandardCharsets.UTF_8)));
            assertThat(harness.awaitResult(harness.pool + "-metered-1", Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            String scrape = await().atMost(Duration.ofSeconds(10)).until(() -> get(port, "/metrics").body(),
                    s -> Scrape.value(s, "wharf_worker_jobs_total", Map.of("function", fn.getName())) == 1.0);
            assertThat(Scrape.value(scrape, "wharf_worker_jobs_total", Map.of("function", fn.getName(), "status", "SUCCEEDED"))).isEqualTo(1.0);
            assertThat(Scrape.value(scrape, "wharf_worker_container_seconds_count", Map.of("function", fn.getName(), "phase", "run"))).isEqualTo(1.0);
            assertThat(Scrape.value(scrape, "jvm_threads_live_threads")).isPositive();
            assertThat(Scrape.value(scrape, "wharf_role_ready", Map.of("role", "worker"))).isEqualTo(1.0);
            assertThat(get(port, "/healthz").statusCode()).isEqualTo(200);
        } finally {
            process.destroy();
            assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aManagementPortInUseStopsTheWorkerAtStartNamingTheSetting() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Process process = harness.startWorkerProcess("taken-" + harness.pool, 1, Map.of(WorkerConfig.MANAGEMENT_PORT_CONFIG, taken.getLocalPort()));
            assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as("misconfigured").isEqualTo(2);
            assertThat(java.nio.file.Files.readString(java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "taken-" + harness.pool + ".log")))
                    .contains("wharf.worker.management.port");
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldFinishRunningJobsOnSigtermAndNotRunThemAgain() throws Exception {
        String id = "drained-" + harness.pool;
        Process process = harness.startWorkerProcess(id, 2);
        FunctionSpec fn = harness.function(harness.pool + "-slow").setCommand(List.of("sh", "-c", "sleep 3; cat")).build();
        harness.submit(harness.job(harness.pool + "-drain", fn, "finished".getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.WORKER, id)).exec().isEmpty());

        process.destroy(); // SIGTERM
        assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("worker exits after draining").isTrue();

        harness.startWorker("after-" + harness.pool, 2);
        List<JobResult> results = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            results.addAll(harness.poll());
            return !results.isEmpty();
        });
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> {
            results.addAll(harness.poll());
            return results.size() == 1;
        });
        JobResult result = results.getFirst();
        assertThat(result.getWorkerId()).as("the draining worker finished it").isEqualTo(id);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("finished");
    }

    @Test
    void shouldKillAndReportJobsStillRunningAtTheDrainTimeoutAndRunThemAgainElsewhere() throws Exception {
        String id = "deadline-" + harness.pool;
        Process process = harness.startWorkerProcess(id, 2, Map.of(WorkerConfig.DRAIN_TIMEOUT_MS_CONFIG, 1000));
        FunctionSpec fn = harness.function(harness.pool + "-long").setCommand(List.of("sh", "-c", "sleep 5; cat")).build();
        String jobId = harness.pool + "-long-1";
        harness.submit(harness.job(jobId, fn, "again".getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.WORKER, id)).exec().isEmpty());

        process.destroy(); // SIGTERM: 1 s of drain, then the job is killed
        assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("worker exits after its drain timeout").isTrue();
        assertThat(harness.docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(Labels.WORKER, id)).exec())
                .as("the killed job's container is gone").isEmpty();
        String log = java.nio.file.Files.readString(java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), id + ".log"));
        assertThat(log).contains("drain timeout (1000 ms) passed with 1 jobs running", jobId);

        harness.startWorker("next-" + harness.pool, 2);
        JobResult result = harness.awaitResult(jobId, Duration.ofSeconds(60));
        assertThat(result.getWorkerId()).as("run again by the next owner").isEqualTo("next-" + harness.pool);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("again");
    }

    @Test
    void shouldRemoveContainersAnEarlierRunOfItselfLeftBehind() {
        String id = "restarted-" + harness.pool;
        String leftover = harness.docker.createContainerCmd(harness.image).withCmd("sleep", "600")
                .withLabels(Map.of(Labels.WORKER, id, Labels.JOB, "old-job"))
                .exec().getId();
        harness.docker.startContainerCmd(leftover).exec();

        harness.startWorker(id, 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.WORKER, id)).exec().isEmpty());
    }
}
