package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.DeadLetter;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;
import io.wharf.topics.Topics;

/** Job records no dispatcher would write, written straight to a job topic: each gets a clear answer and the next job runs. */
class BadJobsIT {
    private static final String KEY = SealedSecrets.newKey();
    private WorkerHarness harness;

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(1);
        harness.startWorker("w-bad-" + harness.pool, 2, Map.of(WorkerConfig.SECRETS_KEY_CONFIG, KEY));
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    private JobResult run(String id, FunctionSpec fn) {
        harness.submit(harness.job(id, fn, new byte[0]));
        return harness.awaitResult(id, Duration.ofSeconds(60));
    }

    @Test
    void undecodableAndEmptyJobRecordsAreDeadLetteredNamingWhyAndTheNextJobRuns() {
        harness.submitRaw(harness.pool + "-garbage", "not a job".getBytes(StandardCharsets.UTF_8));
        harness.submitRaw(harness.pool + "-empty", null);
        FunctionSpec echo = harness.function(harness.pool + "-echo").setCommand(List.of("sh", "-c", "echo fine")).build();
        assertThat(run(harness.pool + "-next", echo).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(harness.deadLetters(Topics.jobs(harness.pool)))
                .extracting(DeadLetter::getReason).anySatisfy(r -> assertThat(r).contains("Job could not be decoded", "magic byte"))
                .anySatisfy(r -> assertThat(r).contains("Job record has no value")));
    }

    @Test
    void aTamperedSealedSecretFailsItsJobNamingTheVariableAndNothingRuns() {
        FunctionSpec sealed = FunctionSecrets.sealAll(SealedSecrets.fromBase64("k", KEY), harness.function(harness.pool + "-sec")
                .setCommand(List.of("sh", "-c", "echo ran")).setSecretEnv(Map.of("TOKEN", "t0ken")).build());
        assertThat(run(harness.pool + "-ok", sealed).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        String value = sealed.getSecretEnv().get("TOKEN");
        char last = value.charAt(value.length() - 3);
        String tampered = value.substring(0, value.length() - 3) + (last == 'A' ? 'B' : 'A') + value.substring(value.length() - 2);
        JobResult refused = run(harness.pool + "-tampered", FunctionSpec.newBuilder(sealed).setSecretEnv(Map.of("TOKEN", tampered)).build());
        assertThat(refused.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(refused.getError()).contains("env TOKEN of function " + harness.pool + "-sec", "altered");
        assertThat(refused.getTimings().getStartedAt()).as("no container started").isNull();
    }
}
