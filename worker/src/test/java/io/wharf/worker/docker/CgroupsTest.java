package io.wharf.worker.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.wharf.worker.runtime.Usage;

/** Reading a container's use from either cgroup layout, laid out here as the kernel shows them. */
class CgroupsTest {
    @TempDir
    Path root;

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    @Test
    void readsCpuPeakAndBlockIoFromV1ControllersAndSubtractsAWarmJobsStart() throws IOException {
        Cgroups cgroups = Cgroups.at(root, "worker 1/x");
        String parent = cgroups.parent("t1");
        assertThat(parent).isEqualTo("/wharf/worker_1_x/t1");
        Path p = Path.of(parent.substring(1));
        write(root.resolve("cpuacct").resolve(p).resolve("cpuacct.usage"), "1070250261\n");
        write(root.resolve("memory").resolve(p).resolve("memory.max_usage_in_bytes"), "107233280\n");
        write(root.resolve("blkio").resolve(p).resolve("blkio.throttle.io_service_bytes_recursive"),
                "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:16 Read 1024\nTotal 13312\n");
        Usage first = cgroups.read("t1");
        assertThat(first).isEqualTo(new Usage(1_070_250_261L, 107_233_280L, 5120, 8192));

        write(root.resolve("cpuacct").resolve(p).resolve("cpuacct.usage"), "1570250261\n");
        write(root.resolve("memory").resolve(p).resolve("memory.max_usage_in_bytes"), "2048\n");
        assertThat(cgroups.read("t1").since(first)).as("a warm job's share").isEqualTo(new Usage(500_000_000L, 2048, 0, 0));
        assertThat(cgroups.read("missing")).as("not readable: not measured").isNull();

        cgroups.resetPeak("t1");
        cgroups.resetPeak("t1");
        // The kernel takes a write of 0 as the reset, through the file kept open; a plain file shows it at its start.
        assertThat(Files.readString(root.resolve("memory").resolve(p).resolve("memory.max_usage_in_bytes"))).startsWith("0048");
    }

    @Test
    void readsTheUnifiedV2Files() throws IOException {
        write(root.resolve("cgroup.controllers"), "cpu io memory pids\n");
        Cgroups cgroups = Cgroups.at(root, "w");
        Path dir = root.resolve(cgroups.parent("t2").substring(1));
        write(dir.resolve("cpu.stat"), "usage_usec 1002003\nuser_usec 900000\nsystem_usec 102003\n");
        write(dir.resolve("memory.peak"), "104857600\n");
        write(dir.resolve("io.stat"), "8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n259:0 rbytes=1 wbytes=2 rios=1 wios=1\n");
        assertThat(cgroups.read("t2")).isEqualTo(new Usage(1_002_003_000L, 104_857_600L, 4097, 514));
    }

    @Test
    void measuresNothingWithoutACgroupFileSystem() {
        Cgroups none = Cgroups.none();
        assertThat(none.measures()).isFalse();
        assertThat(none.parent("t")).isNull();
        assertThat(none.read("t")).isNull();
    }
}
