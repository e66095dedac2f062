package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RateLimit;
import io.wharf.records.RegistryAuth;
import io.wharf.records.RetryPolicy;
import io.wharf.secrets.SealedSecrets;

class DeploySummaryTest {
    private static FunctionSpec.Builder fn() {
        return FunctionSpec.newBuilder().setName("f").setImage("img");
    }

    @Test
    void saysTheDefaultsTooSoNothingIsLeftToGuess() {
        assertThat(DeployCommand.policies(fn().build()))
                .isEqualTo("tenant default, priority 1, no rate limit, no concurrency cap, backlog 10000, no retry");
    }

    @Test
    void listsEveryPolicyTheFunctionSets() {
        SealedSecrets secrets = SealedSecrets.fromBase64("k", SealedSecrets.newKey());
        FunctionSpec spec = fn().setTenant("acme").setPriority(0).setRateLimit(RateLimit.newBuilder().setPerSecond(0.5).setBurst(10).build())
                .setMaxConcurrency(2).setMaxJobAgeMillis(600_000L)
                .setRetry(RetryPolicy.newBuilder().setMaxAttempts(3).setInitialBackoffMillis(2000).setRetryOnExitCodes(List.of(75)).build())
                .setOnSuccess(List.of("upper")).setRegistryAuth(RegistryAuth.newBuilder().setUsername("u").setPassword("p").build())
                .setSecretEnv(java.util.Map.of("TOKEN", "t"))
                .build();
        spec = io.wharf.secrets.FunctionSecrets.sealAll(secrets, spec);
        assertThat(DeployCommand.policies(spec)).isEqualTo("tenant acme, priority 0, rate 0.5/s burst 10, at most 2 at once, backlog 10000, "
                + "max age 600000 ms, 3 attempts (backoff 2000-60000 ms, exit codes [75]), on success upper, registry user u, password sealed, secret env TOKEN sealed with key " + secrets.sealingKeyId());
    }
}
