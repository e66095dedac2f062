package io.wharf.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RateLimit;
import io.wharf.records.RetryPolicy;

/** Each kind of function definition no job could run with, as a record written straight to wharf.functions could carry it. */
class FunctionRulesTest {
    private static FunctionSpec.Builder fn() {
        return FunctionSpec.newBuilder().setName("f").setImage("wharf-local/busybox:1");
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("memory under the engine's minimum", (UnaryOperator<FunctionSpec.Builder>) f -> f.setMemoryMb(4), "memory '4 MiB'"),
                Arguments.of("cpus 0", (UnaryOperator<FunctionSpec.Builder>) f -> f.setCpus(0), "cpus '0.0'"),
                Arguments.of("cpus negative", (UnaryOperator<FunctionSpec.Builder>) f -> f.setCpus(-1), "cpus '-1.0'"),
                Arguments.of("cpus NaN", (UnaryOperator<FunctionSpec.Builder>) f -> f.setCpus(Double.NaN), "cpus 'NaN'"),
                Arguments.of("timeout 0", (UnaryOperator<FunctionSpec.Builder>) f -> f.setTimeoutMillis(0), "timeout '0 ms'"),
                Arguments.of("timeout of a year", (UnaryOperator<FunctionSpec.Builder>) f -> f.setTimeoutMillis(365L * 86_400_000), "at most 7 days"),
                Arguments.of("maxConcurrency 0", (UnaryOperator<FunctionSpec.Builder>) f -> f.setMaxConcurrency(0), "maxConcurrency '0'"),
                Arguments.of("maxConcurrency negative", (UnaryOperator<FunctionSpec.Builder>) f -> f.setMaxConcurrency(-3), "maxConcurrency '-3'"),
                Arguments.of("maxPending negative", (UnaryOperator<FunctionSpec.Builder>) f -> f.setMaxPending(-1), "maxPending '-1'"),
                Arguments.of("priority 7", (UnaryOperator<FunctionSpec.Builder>) f -> f.setPriority(7), "priority '7'"),
                Arguments.of("env name with a dash", (UnaryOperator<FunctionSpec.Builder>) f -> f.setEnv(Map.of("API-KEY", "x")), "env 'API-KEY'"),
                Arguments.of("env name Wharf sets", (UnaryOperator<FunctionSpec.Builder>) f -> f.setEnv(Map.of("WHARF_JOB_ID", "x")), "WHARF_ names"),
                Arguments.of("secret env name starting with a digit", (UnaryOperator<FunctionSpec.Builder>) f -> f.setSecretEnv(Map.of("1TOKEN", "x")),
                        "secretEnv '1TOKEN'"),
                Arguments.of("user with a space", (UnaryOperator<FunctionSpec.Builder>) f -> f.setUser("nobody nogroup"), "user 'nobody nogroup'"),
                Arguments.of("user -1", (UnaryOperator<FunctionSpec.Builder>) f -> f.setUser("-1"), "user '-1'"),
                Arguments.of("name with a slash", (UnaryOperator<FunctionSpec.Builder>) f -> f.setName("a/b"), "name 'a/b'"),
                Arguments.of("pool with a space", (UnaryOperator<FunctionSpec.Builder>) f -> f.setPool("my pool"), "Pool name 'my pool'"),
                Arguments.of("image with a space", (UnaryOperator<FunctionSpec.Builder>) f -> f.setImage("busy box"), "image 'busy box'"),
                Arguments.of("rate of 0", (UnaryOperator<FunctionSpec.Builder>) f -> f.setRateLimit(RateLimit.newBuilder().setPerSecond(0).setBurst(1).build()),
                        "rate '0.0/s"),
                Arguments.of("retry of 0 attempts", (UnaryOperator<FunctionSpec.Builder>) f -> f.setRetry(RetryPolicy.newBuilder().setMaxAttempts(0).build()),
                        "maxAttempts 1 or more"),
                Arguments.of("payload cap over the record limit", (UnaryOperator<FunctionSpec.Builder>) f -> f.setMaxPayloadBytes(Integer.MAX_VALUE),
                        "maxPayload"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusesADefinitionNoJobCouldRunWithNamingTheField(String kind, UnaryOperator<FunctionSpec.Builder> change, String named) {
        assertThat(FunctionRules.violation(change.apply(fn()).build())).get().asString().contains(named).contains("invalid");
    }

    @org.junit.jupiter.api.Test
    void aDefinitionWithinTheRulesPasses() {
        assertThat(FunctionRules.violation(fn().setUser("1000:1000").setEnv(Map.of("A_1", "x")).build())).isEmpty();
    }
}
