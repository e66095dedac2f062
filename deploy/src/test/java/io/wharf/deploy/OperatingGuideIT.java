package io.wharf.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.Ports;
import io.wharf.embedded.SchemaRegistryProcess;
import io.wharf.embedded.TempDirs;
import io.wharf.worker.docker.DockerClients;

/**
 * docs/operating.md, run as written: every {@code sh} block in order, in one shell, against a broker with Kafka's stock
 * settings and a real registry, with the roles started by hand as the page starts them. Only the addresses the page
 * lets a reader set ({@code BOOTSTRAP}, ports) come from here.
 */
class OperatingGuideIT {
    private static final Pattern SH_BLOCK = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL);
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @Test
    void theGuideTakesAnEmptyClusterToAFirstJobThroughRolesStartedByHand() throws Exception {
        String guide = Files.readString(ROOT.resolve("docs/operating.md"));
        List<String> blocks = new ArrayList<>();
        Matcher m = SH_BLOCK.matcher(guide);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        assertThat(blocks).as("the guide's commands").hasSizeGreaterThanOrEqualTo(7);
        try (var docker = DockerClients.fromEnvironment()) {
            LocalImages.demo(docker);
        }
        Path run = Files.createTempDirectory("wharf-operating-");
        try (EmbeddedKafka kafka = EmbeddedKafka.startStock(); SchemaRegistryProcess registry = SchemaRegistryProcess.start()) {
            Path script = Files.writeString(run.resolve("guide.sh"), "set -euo pipefail\n" + String.join("\n", blocks));
            ProcessBuilder shell = new ProcessBuilder("bash", script.toString()).directory(ROOT.toFile()).redirectErrorStream(true)
                    .redirectOutput(run.resolve("guide.out").toFile());
            shell.environment().putAll(java.util.Map.of("BOOTSTRAP", kafka.bootstrapServers(), "REGISTRY", registry.confluentUrl(),
                    "REPLICATION", "1", "WHARF_RUN", run.resolve("run").toString(), "WHARF_BUILD", "never",
                    "WHARF_DISPATCHER_MANAGEMENT_PORT", String.valueOf(Ports.free()), "WHARF_WORKER_MANAGEMENT_PORT", String.valueOf(Ports.free()),
                    "WHARF_GATEWAY_PORT", String.valueOf(Ports.free())));
            Process process = shell.start();
            boolean ended = process.waitFor(6, TimeUnit.MINUTES);
            String out = Files.readString(run.resolve("guide.out"), StandardCharsets.UTF_8);
            assertThat(ended).as("the guide ran within 6 minutes:\n" + out).isTrue();
            assertThat(process.exitValue()).as("every command of the guide succeeded:\n" + out + logs(run.resolve("run"))).isZero();
            assertThat(out).contains("bootstrap.servers=" + kafka.bootstrapServers() + "    # environment WHARF_BOOTSTRAP_SERVERS")
                    .containsPattern("created +wharf\\.jobs\\.default +6 partitions, replication factor 1")
                    .contains("wharf.events", "Hello, operator!")
                    .containsPattern("Worker \\S+-default assigned")
                    .containsPattern("Dispatcher assigned \\[");
        } finally {
            stopLeftRoles(run.resolve("run"));
            TempDirs.delete(run);
        }
    }

    private static String logs(Path run) throws java.io.IOException {
        StringBuilder all = new StringBuilder();
        if (Files.isDirectory(run)) {
            try (var files = Files.list(run)) {
                for (Path log : files.filter(p -> p.toString().endsWith(".log")).toList()) {
                    all.append("\n--- ").append(log.getFileName()).append('\n').append(Files.readString(log));
                }
            }
        }
        return all.toString();
    }

    /** The roles a failed guide left running, by the pid files it wrote. */
    private static void stopLeftRoles(Path run) throws Exception {
        for (String role : List.of("gateway", "worker", "dispatcher")) {
            Path pid = run.resolve(role + ".pid");
            if (Files.exists(pid)) {
                var handle = ProcessHandle.of(Long.parseLong(Files.readString(pid).strip()));
                if (handle.isPresent()) {
                    handle.get().destroy();
                    handle.get().onExit().get(60, TimeUnit.SECONDS);
                }
            }
        }
    }
}
