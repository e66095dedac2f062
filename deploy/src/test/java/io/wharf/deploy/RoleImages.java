package io.wharf.deploy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The images {@code ./wharf images} builds, built once per test JVM from what the build left (after removing any
 * earlier build of them, so the build is shown to need no image it did not make itself).
 */
final class RoleImages {
    static final String VERSION = version();
    static final String WHARF = "wharf/wharf:" + VERSION;
    static final String REGISTRY = "wharf/registry:" + VERSION;
    static final String BASE = "wharf/base:" + VERSION;
    private static boolean built;

    private RoleImages() {
    }

    static synchronized void ensure() throws Exception {
        if (built) {
            return;
        }
        for (String image : List.of(WHARF, REGISTRY, BASE)) {
            run(List.of("docker", "image", "rm", "-f", image, image.replace(VERSION, "latest")), true);
        }
        run(List.of("bash", OperatingGuideIT.ROOT.resolve("scripts/images.sh").toString()), false);
        built = true;
    }

    static String run(List<String> command, boolean mayFail) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(OperatingGuideIT.ROOT.toFile()).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0 && !mayFail) {
            throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }

    private static String version() {
        try {
            String pom = Files.readString(OperatingGuideIT.ROOT.resolve("pom.xml"));
            int at = pom.indexOf("<version>");
            return pom.substring(at + "<version>".length(), pom.indexOf("</version>", at));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The group that may use the engine's socket, for a worker container that runs as Wharf's user. */
    static String socketGroup() throws java.io.IOException {
        return String.valueOf(Files.getAttribute(Path.of("/var/run/docker.sock"), "unix:gid"));
    }
}
