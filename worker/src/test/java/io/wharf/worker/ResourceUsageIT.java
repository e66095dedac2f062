package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.ResourceUsage;

/**
 * Each result says what its container used, from the cgroup the worker gives it: a job that holds 100 MiB and burns
 * a CPU second reports both, whether it ran on a fresh, a pre-started or a warm container (there, the difference over
 * the job: a light job after a heavy one on the same container reports its own).
 */
class ResourceUsageIT {
    private static final long MIB = 1024 * 1024;
    /**
     * Holds 100 MiB (dd's buffer, kept while it waits on a pipe nobody reads for a second), then spins until the shell
     * and the children it waited for (dd, whose zeroing of 100 MiB costs the kernel more the busier the machine) used
     * 0.95 CPU seconds (user and system ticks, read from /proc with builtins only): with the rest of the container's
     * processes, about one second in all.
     */
    private static final String HEAVY = "read -r l < /proc/$$/stat; set -- $l; s=$((${14}+${15}+${16}+${17})); "
            + "dd if=/dev/zero bs=100M count=1 2>/dev/null | sleep 1; "
            + "while :; do read -r l < /proc/$$/stat; set -- $l; [ $((${14}+${15}+${16}+${17}-s)) -ge 95 ] && break; done";

    private WorkerHarness harness;

    @AfterEach
    void tearDown() {
        if (harness != null) {
            harness.close();
        }
    }

    private JobResult run(FunctionSpec fn, String jobId, String payload) {
        harness.submit(harness.job(jobId, fn, payload.getBytes(StandardCharsets.UTF_8)));
        JobResult result = harness.awaitResult(jobId, Duration.ofSeconds(90));
        assertThat(result.getStatus()).as(result.getError() + " " + result.getStderrTail()).isEqualTo(JobStatus.SUCCEEDED);
        return result;
    }

    private static void assertHeavy(JobResult result, String how) {
        ResourceUsage usage = result.getUsage();
        assertThat(usage).as(how + ": usage measured").isNotNull();
        assertThat(usage.getCpuSeconds()).as(how + ": CPU seconds").isCloseTo(1.0, within(0.2));
        assertThat(usage.getPeakMemoryBytes()).as(how + ": peak memory").isGreaterThanOrEqualTo(100 * MIB);
    }

    @Test
    void aFreshAndAPrestartedContainerReportTheirCpuSecondsAndPeakMemory() {
        harness = new WorkerHarness(1);
        FunctionSpec fn = harness.function(harness.pool + "-heavy").setMemoryMb(256).setCommand(List.of("sh", "-c", HEAVY)).build();
        harness.startWorker("usage-cold-" + harness.pool, 1);
        assertHeavy(run(fn, harness.pool + "-cold", "x"), "fresh container");
        harness.close();

        harness = new WorkerHarness(1);
        FunctionSpec pre = harness.function(harness.pool + "-heavy").setMemoryMb(256).setCommand(List.of("sh", "-c", HEAVY)).build();
        harness.startWorker("usage-pre-" + harness.pool, 1, Map.of(WorkerConfig.PRESTART_CONFIG, 1));
        run(pre, harness.pool + "-warmup", "x"); // from here on its jobs find a container started ahead of them
        assertHeavy(run(pre, harness.pool + "-pre", "x"), "pre-started container");
    }

    @Test
    void aWarmContainerReportsEachJobsOwnUse() {
        harness = new WorkerHarness(1);
        String script = "exec 3<\"$WHARF_HOT_IN\" 4>\"$WHARF_HOT_OUT\"\n"
                + "while read -r id payload <&3; do\n"
                + "  if [ \"$payload\" = \"$(echo -n heavy | base64)\" ]; then " + HEAVY + "; fi\n"
                + "  echo \"$id 0 $payload\" >&4\n"
                + "done\n";
        FunctionSpec fn = harness.function(harness.pool + "-warm").setMemoryMb(256).setCommand(List.of("sh", "-c", script))
                .setHot(HotSettings.newBuilder().setMaxJobsPerContainer(100).build()).build();
        harness.startWorker("usage-warm-" + harness.pool, 1);
        JobResult heavy = run(fn, harness.pool + "-heavy", "heavy");
        assertHeavy(heavy, "warm container");
        JobResult light = run(fn, harness.pool + "-light", "light");
        assertThat(light.getWorkerId()).isEqualTo(heavy.getWorkerId());
        assertThat(light.getUsage().getCpuSeconds()).as("the light job's own CPU, not the container's").isLessThan(0.2);
        assertThat(light.getUsage().getPeakMemoryBytes()).as("its own peak: reset after the heavy job").isLessThan(50 * MIB);
    }

    @Test
    void theCgroupsOfRemovedContainersAreRemovedToo() throws Exception {
        harness = new WorkerHarness(1);
        String workerId = "usage-clean-" + harness.pool;
        FunctionSpec fn = harness.function(harness.pool + "-quick").setCommand(List.of("sleep", "1")).build();
        Path root = Path.of("/sys/fs/cgroup");
        Path base = Files.exists(root.resolve("cgroup.controllers")) ? root.resolve("wharf").resolve(workerId) : root.resolve("memory/wharf").resolve(workerId);
        Worker worker = harness.startWorker(workerId, 1);
        harness.submit(harness.job(harness.pool + "-quick", fn, new byte[0]));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Files.isDirectory(base)); // while it runs
        assertThat(harness.awaitResult(harness.pool + "-quick", Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        worker.close();
        assertThat(base).as("removed with the worker's containers").doesNotExist();
    }
}
