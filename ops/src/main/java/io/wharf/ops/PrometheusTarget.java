package io.wharf.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * A role's scrape target as a Prometheus {@code file_sd_configs} file, in the directory {@code
 * WHARF_PROMETHEUS_TARGETS_DIR} names: Prometheus finds roles whose management port is chosen at start (port 0, as
 * scaled containers on one host network use). Written once the port is bound, removed when the role stops; a role
 * killed outright leaves its file, and Prometheus shows that target down until the file is removed.
 */
final class PrometheusTarget {
    static final String DIR = "WHARF_PROMETHEUS_TARGETS_DIR";

    private PrometheusTarget() {
    }

    /** Returns the file written, or null when no directory is set or it cannot be written (said on standard error). */
    static Path write(Map<String, String> env, String role, String host, int port) {
        String dir = env.get(DIR);
        if (dir == null || dir.isBlank()) {
            return null;
        }
        Path file = Path.of(dir, role + "-" + UUID.randomUUID().toString().substring(0, 8) + ".json");
        String json = "[{\"targets\": [\"" + host + ":" + port + "\"], \"labels\": {\"role\": \"" + role + "\"}}]\n";
        try {
            Files.createDirectories(file.getParent());
            // Written aside and moved, so Prometheus never reads half a file.
            Path partial = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), json);
            Files.move(partial, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            file.toFile().deleteOnExit(); // a SIGTERM ends the process before the role's main thread gets to remove it
            return file;
        } catch (IOException e) {
            System.err.println("wharf " + role + ": could not write its Prometheus target to " + dir + " (" + DIR + "): " + e.getMessage());
            return null;
        }
    }

    static void remove(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a stale target shows as down; nothing else depends on it
            }
        }
    }
}
