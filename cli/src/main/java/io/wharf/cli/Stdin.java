package io.wharf.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether the command's standard input is piped or redirected from a file, so that {@code echo x | wharf invoke f}
 * sends {@code x} while {@code wharf invoke f} at a terminal (or with no input, as under CI) sends nothing and does
 * not wait. Linux tells through {@code /proc/self/fd/0}; elsewhere only {@code --file -} reads standard input.
 */
final class Stdin {
    private Stdin() {
    }

    static boolean piped() {
        try {
            return piped(Files.readSymbolicLink(Path.of("/proc/self/fd/0")).toString());
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** For what {@code /proc/self/fd/0} points at: a pipe, or a file that is not a device. */
    static boolean piped(String target) {
        return target.startsWith("pipe:") || (target.startsWith("/") && !target.startsWith("/dev/"));
    }
}
