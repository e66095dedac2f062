package io.wharf.worker.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateWorkDirTest {
    @TempDir
    Path base;

    @Test
    void aWorkersDirectoryIsPrivateAndGoneWhenItCloses() throws Exception {
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (PrivateWorkDir dir = PrivateWorkDir.open("wharf.worker.work.dir", base, "w/1")) {
            assertThat(dir.path()).isEqualTo(base.resolve("w_1"));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.path()))).isEqualTo("rwx------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(base))).as("the base made private").isEqualTo("rwx------");
            assertThatThrownBy(() -> PrivateWorkDir.open("wharf.worker.work.dir", base, "w/1")).hasMessageContaining("Another worker with id w/1");
        }
        assertThat(base.resolve("w_1")).doesNotExist();
        assertThat(base.resolve("w_1.lock")).doesNotExist();
    }

    @Test
    void whatADeadWorkerLeftIsRemovedAndALiveOnesIsKept() throws Exception {
        Path dead = Files.createDirectories(base.resolve("dead/payload"));
        Files.writeString(dead.resolve("p"), "secret payload");
        Files.createFile(base.resolve("dead.lock"));
        try (PrivateWorkDir live = PrivateWorkDir.open("wharf.worker.work.dir", base, "live");
                PrivateWorkDir other = PrivateWorkDir.open("wharf.worker.work.dir", base, "other")) {
            assertThat(base.resolve("dead")).doesNotExist();
            assertThat(base.resolve("dead.lock")).doesNotExist();
            assertThat(live.path()).exists();
            assertThat(other.path()).exists();
        }
    }

    @Test
    void aBaseOfAnotherUserIsRefusedNamingTheSetting() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "gives a directory away: needs root");
        Path foreign = Files.createDirectory(base.resolve("foreign"));
        UserPrincipal nobody = foreign.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Files.setOwner(foreign, nobody);
        assertThatThrownBy(() -> PrivateWorkDir.open("wharf.worker.work.dir", foreign, "w")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("wharf.worker.work.dir").hasMessageContaining("belongs to nobody");
    }
}
