package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.NetworkMode;
import io.wharf.records.PoolPolicy;
import io.wharf.rules.PoolPolicies;
import io.wharf.testkit.SharedServices;

/** Each default hardening property, shown by a job that tries to break it. */
class HardeningIT {
    private WorkerHarness harness;

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(2);
        harness.policy(PoolPolicy.newBuilder(PoolPolicies.defaults(harness.pool)).setAllowHostNetwork(true).build());
        harness.startWorker("w-hard-" + harness.pool, 4);
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    private JobResult run(String suffix, FunctionSpec.Builder fn, String script) {
        FunctionSpec spec = fn.setName(harness.pool + "-" + suffix).setCommand(List.of("sh", "-c", script)).build();
        String jobId = harness.pool + "-" + suffix + "-1";
        harness.submit(harness.job(jobId, spec, new byte[0]));
        List<JobResult> results = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
            harness.poll().stream().filter(r -> r.getJobId().equals(jobId)).forEach(results::add);
            return !results.isEmpty();
        });
        return results.getFirst();
    }

    private static String body(JobResult r) {
        return StandardCharsets.UTF_8.decode(r.getBody()).toString();
    }

    private static int registryPort() {
        return URI.create(SharedServices.registry().confluentUrl()).getPort();
    }

    @Test
    void shouldHaveNoNetworkUnlessTheFunctionOptsIntoHost() {
        // Connects to the schema registry, which listens on the host's 127.0.0.1.
        String probe = "ls /sys/class/net | tr '\\n' ' '; echo; nc -w 3 127.0.0.1 " + registryPort()
                + " </dev/null 2>/dev/null && echo reached || echo unreachable";
        JobResult none = run("net-none", harness.function("x"), probe);
        assertThat(body(none)).isEqualTo("lo \nunreachable\n");

        JobResult host = run("net-host", harness.function("x").setNetwork(NetworkMode.HOST), probe);
        assertThat(body(host)).endsWith("reached\n").doesNotEndWith("unreachable\n");
    }

    @Test
    void shouldKeepTheRootFilesystemReadOnlyWithAWritableTmp() {
        JobResult r = run("rootfs", harness.function("x"), "touch /pwned 2>&1; echo \"root=$?\"; echo ok > /tmp/f && cat /tmp/f");
        assertThat(body(r)).contains("Read-only file system").contains("root=1").endsWith("ok\n");
    }

    @Test
    void shouldDropAllCapabilitiesAndForbidNewPrivileges() {
        JobResult r = run("caps", harness.function("x"),
                "grep -E 'CapEff|NoNewPrivs' /proc/self/status | tr -s '\\t' ' '; touch /tmp/f; chown 1 /tmp/f 2>&1; echo \"chown=$?\"");
        assertThat(body(r)).contains("CapEff: 0000000000000000").contains("NoNewPrivs: 1")
                .contains("Operation not permitted").contains("chown=1");
    }

    @Test
    void shouldStopAForkBombAtThePidsLimit() {
        JobResult r = run("forkbomb", harness.function("x"), "i=0; while [ $i -lt 1000 ]; do i=$((i+1)); sleep 30 & done; echo survived");
        assertThat(r.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(r.getStderrTail()).contains("can't fork");
        assertThat(body(r)).doesNotContain("survived");
    }

    @Test
    void shouldRunAsTheFunctionsUserWhenOneIsSet() {
        JobResult r = run("user", harness.function("x").setUser("65534:65534"), "id -u; id -g; cat \"$PAYLOAD_FILE\" > /dev/null && echo readable");
        assertThat(body(r)).isEqualTo("65534\n65534\nreadable\n");
        JobResult nobody = run("nobody", harness.function("x"), "id -u; cat \"$PAYLOAD_FILE\" > /dev/null && echo readable");
        assertThat(body(nobody)).as("a pool that does not allow root runs a function without a user as nobody").isEqualTo("65534\nreadable\n");
    }

    @Test
    void shouldHoldTheMemoryLimitWithoutSwap() {
        JobResult r = run("memory", harness.function("x").setMemoryMb(16),
                "x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo ${#x}");
        assertThat(r.getStatus()).isEqualTo(JobStatus.OOM_KILLED);
        assertThat(body(r)).doesNotContain("64000000");
    }
}
