package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.wharf.records.FunctionSpec;
import io.wharf.records.HotSettings;
import io.wharf.records.NetworkMode;
import io.wharf.records.Ordering;
import io.wharf.records.RateLimit;
import io.wharf.records.RetryPolicy;
import picocli.CommandLine;

/** `wharf deploy` reads a function from flags and from files through one mapping, so both say the same. */
class DeployDefinitionTest {
    private static final String EVERY_KEY = """
            name: thumbnail
            image: example/thumbnail:1
            cmd: [resize, --width, "640"]
            entrypoint: [/bin/sh, -c]
            memory: 256m
            cpus: 0.5
            timeout: 30s
            env: {QUALITY: "80", MODE: fast}
            pool: gpu
            network: host
            user: "65534:65534"
            tenant: acme
            rate: 10/s
            burst: 20
            maxConcurrency: 4
            maxPending: 500
            priority: 0
            maxAge: 10m
            maxPayload: 512k
            ordering: key
            hot: {idleTtl: 30s, maxJobsPerContainer: 50, prewarm: 2}
            enabled: false
            retry: {maxAttempts: 5, backoff: 2s, maxBackoff: 1m, multiplier: 3, jitter: 0.1, onExitCodes: [75, 76], onStatuses: [FAILED, OOM_KILLED]}
            onSuccess: [next]
            onFailure: [alert, page]
            contentTypes: [application/json, text/*]
            """;

    private static DeployCommand parse(String... args) {
        DeployCommand deploy = new DeployCommand();
        new CommandLine(deploy).parseArgs(args);
        return deploy;
    }

    @Test
    void shouldDefineTheSameFunctionFromEveryKeyOfAFileAndFromFlags(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("thumbnail.yaml");
        Files.writeString(file, EVERY_KEY);
        FunctionSpec fromFile = parse("-f", file.toString()).definition().build();
        FunctionSpec fromFlags = parse("thumbnail", "--image", "example/thumbnail:1", "--cmd", "resize", "--width", "640",
                "--entrypoint", "/bin/sh", "-c", "--memory", "256m", "--cpus", "0.5", "--timeout", "30s", "--env", "QUALITY=80", "--env", "MODE=fast",
                "--pool", "gpu", "--network", "host", "--user", "65534:65534", "--tenant", "acme", "--rate", "10/s", "--burst", "20",
                "--max-concurrency", "4", "--max-pending", "500", "--priority", "0", "--max-age", "10m", "--max-payload", "512k",
                "--ordering", "key", "--hot-idle-ttl", "30s", "--hot-max-jobs", "50", "--hot-prewarm", "2", "--no-enabled",
                "--retries", "5", "--backoff", "2s", "--max-backoff", "1m", "--backoff-multiplier", "3", "--backoff-jitter", "0.1",
                "--retry-on-exit", "75,76", "--retry-on-status", "FAILED,OOM_KILLED", "--on-success", "next", "--on-failure", "alert,page",
                "--content-types", "application/json,text/*").definition().build();

        assertThat(fromFlags).isEqualTo(fromFile);
        assertThat(fromFile.getCommand()).containsExactly("resize", "--width", "640");
        assertThat(fromFile.getEntrypoint()).containsExactly("/bin/sh", "-c");
        assertThat(fromFile.getMemoryMb()).isEqualTo(256);
        assertThat(fromFile.getEnv()).isEqualTo(Map.of("QUALITY", "80", "MODE", "fast"));
        assertThat(fromFile.getNetwork()).isEqualTo(NetworkMode.HOST);
        assertThat(fromFile.getRateLimit()).isEqualTo(new RateLimit(10.0, 20));
        assertThat(fromFile.getMaxJobAgeMillis()).isEqualTo(600_000L);
        assertThat(fromFile.getMaxPayloadBytes()).isEqualTo(512 * 1024);
        assertThat(fromFile.getOrdering()).isEqualTo(Ordering.KEY);
        assertThat(fromFile.getHot()).isEqualTo(new HotSettings(30_000L, 50, 2));
        assertThat(fromFile.getEnabled()).isFalse();
        assertThat(fromFile.getRetry()).isEqualTo(new RetryPolicy(5, 2_000L, 60_000L, 3.0, List.of(75, 76), List.of("FAILED", "OOM_KILLED"), 0.1));
        assertThat(fromFile.getOnFailure()).containsExactly("alert", "page");
        assertThat(fromFile.getContentTypes()).containsExactly("application/json", "text/*");
    }

    @Test
    void shouldLetFlagsOverrideAFileAndMergeItsEnvAndRetry(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("f.yaml");
        Files.writeString(file, "name: f\nimage: i:1\nenv: {A: '1'}\nretry: {maxAttempts: 3, backoff: 5s}\nhot: {prewarm: 1}\n");
        FunctionSpec spec = parse("-f", file.toString(), "--env", "B=2", "--retries", "4", "--hot-max-jobs", "9").definition().build();
        assertThat(spec.getEnv()).isEqualTo(Map.of("A", "1", "B", "2"));
        assertThat(spec.getRetry().getMaxAttempts()).isEqualTo(4);
        assertThat(spec.getRetry().getInitialBackoffMillis()).isEqualTo(5_000L);
        assertThat(spec.getHot().getPrewarm()).isEqualTo(1);
        assertThat(spec.getHot().getMaxJobsPerContainer()).isEqualTo(9);
    }

    @Test
    void shouldRefuseAnUnknownKeyOrABadValueNamingIt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "name: f\nimage: i:1\nordring: key\n");
        assertThatThrownBy(() -> parse("-f", file.toString()).definition()).hasMessageContaining("unknown key 'ordring'")
                .hasMessageContaining(file.toString());
        Files.writeString(file, "name: f\nimage: i:1\nhot: {prewarm: 1, idle: 5s}\n");
        assertThatThrownBy(() -> parse("-f", file.toString()).definition()).hasMessageContaining("unknown key 'hot.idle'");
        assertThatThrownBy(() -> parse("f", "--image", "i:1", "--ordering", "random").definition())
                .hasMessageContaining("ordering 'random'").hasMessageContaining("none or key");
        assertThatThrownBy(() -> parse("f", "--image", "i:1", "--burst", "3").definition()).hasMessageContaining("`burst` needs a `rate`");
    }

    @Test
    void shouldRefuseCpusAndTimeoutsNoJobCouldRunWith(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("f.yaml");
        for (String cpus : new String[] {"0", "-1", "abc", "NaN", "Infinity", "500"}) {
            Files.writeString(file, "name: f\nimage: i:1\ncpus: " + cpus + "\n");
            assertThatThrownBy(() -> parse("-f", file.toString()).definition()).as("cpus %s", cpus)
                    .hasMessageContaining("cpus '" + cpus + "'").hasMessageContaining("above 0 and at most 256");
        }
        assertThatThrownBy(() -> parse("f", "--image", "i:1", "--cpus", "0").definition()).hasMessageContaining("above 0");
        assertThatThrownBy(() -> parse("f", "--image", "i:1", "--timeout", "0s").definition()).hasMessageContaining("timeout '0s'")
                .hasMessageContaining("above 0");
        assertThatThrownBy(() -> parse("f", "--image", "i:1", "--timeout", "200h").definition()).hasMessageContaining("at most 168h");
        assertThat(parse("f", "--image", "i:1", "--cpus", "0.25", "--timeout", "2h").definition().build().getCpus()).isEqualTo(0.25);
    }
}
