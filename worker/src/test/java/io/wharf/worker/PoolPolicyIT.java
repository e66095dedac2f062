package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.NetworkMode;
import io.wharf.records.PoolPolicy;
import io.wharf.rules.PoolPolicies;

/**
 * A worker enforces its pool's policy on every job, also on a job record written straight to the job topic (which
 * never went through a deploy's check), and follows a policy an operator changes while it runs.
 */
class PoolPolicyIT {
    private final AtomicInteger ids = new AtomicInteger();
    private WorkerHarness harness;

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(1);
        harness.startWorker("w-policy-" + harness.pool, 2);
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    private JobResult run(FunctionSpec.Builder fn, String script) {
        String jobId = harness.pool + "-" + ids.incrementAndGet();
        harness.submit(harness.job(jobId, fn.setName(harness.pool + "-fn").setCommand(List.of("sh", "-c", script)).build(), new byte[0]));
        return harness.awaitResult(jobId, Duration.ofSeconds(60));
    }

    @Test
    void aJobAskingForHostNetworkOrRootOnAPoolWithoutAPolicyFailsNamingThePolicy() {
        JobResult host = run(harness.function("x").setNetwork(NetworkMode.HOST), "echo ran");
        assertThat(host.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(host.getError()).contains("policy of its pool", "pool " + harness.pool + " does not allow host network");
        JobResult root = run(harness.function("x").setUser("root"), "echo ran");
        assertThat(root.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(root.getError()).contains("does not allow running as root");
        JobResult plain = run(harness.function("x"), "id -u");
        assertThat(StandardCharsets.UTF_8.decode(plain.getBody()).toString()).isEqualTo("65534\n");
    }

    @Test
    void aPolicyAnOperatorChangesAppliesToTheNextJobs() {
        harness.policy(PoolPolicy.newBuilder(PoolPolicies.defaults(harness.pool)).setAllowRoot(true).setMaxMemoryMb(64).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> run(harness.function("x").setUser("0"), "id -u").getStatus() == JobStatus.SUCCEEDED);
        JobResult big = run(harness.function("x").setMemoryMb(128), "echo ran");
        assertThat(big.getError()).contains("allows at most 64 MiB");
    }
}
