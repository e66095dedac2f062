package io.wharf.ops;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * Where a role says which management port it took, for readers that cannot know it beforehand (port 0, as scaled
 * containers on one host network use): {@code WHARF_PORT_FILE} gets the port alone, for an image's health check;
 * {@code WHARF_PROMETHEUS_TARGETS_DIR} gets a Prometheus {@code file_sd_configs} file, removed when the role stops (a
 * role killed outright leaves it, and Prometheus shows that target down until it is removed).
 */
final class ManagementFiles {
    static final String PORT_FILE = "WHARF_PORT_FILE";
    static final String TARGETS_DIR = "WHARF_PROMETHEUS_TARGETS_DIR";

    private ManagementFiles() {
    }

    /** Writes both files the environment asks for; returns the Prometheus target written, or null (a failure is said on standard error). */
    static Path write(Map<String, String> env, String role, String host, int port) {
        String portFile = env.get(PORT_FILE);
        if (portFile != null && !portFile.isBlank()) {
            try {
                Files.writeString(Path.of(portFile), String.valueOf(port));
            } catch (IOException e) {
                System.err.println("wharf " + role + ": could not write the management port to " + portFile + " (" + PORT_FILE + "): " + e.getMessage());
            }
        }
        String dir = env.get(TARGETS_DIR);
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
            System.err.println("wharf " + role + ": could not write its Prometheus target to " + dir + " (" + TARGETS_DIR + "): " + e.getMessage());
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
