package io.wharf.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.github.dockerjava.api.DockerClient;

/**
 * Job images that run Java, made offline from what this machine has: a runtime of {@code java.base} linked by the JDK
 * running this code ({@code jlink}), the C libraries it needs copied from the host (as {@code ldd} names them), and
 * busybox, as {@link LocalImages} makes every local image.
 */
public final class JavaImages {
    private static final Pattern LIBRARY = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");
    /** Where the runtime is in the image. */
    public static final String JAVA = "/opt/java/bin/java";

    private JavaImages() {
    }

    /**
     * Builds {@code tag} unless it exists: a Java runtime and {@code classes} (class file paths under {@code /app}),
     * running {@code mainClass} with {@code -cp /app} and a small heap, as a job of 128 MiB can.
     */
    public static String ensure(DockerClient docker, String tag, Map<String, byte[]> classes, String mainClass) {
        try {
            docker.inspectImageCmd(tag).exec();
            return tag;
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            // build it below
        }
        Path work = null;
        try {
            work = Files.createTempDirectory("wharf-java-image-");
            Path runtime = work.resolve("jre");
            Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
            run(List.of(jlink.toString(), "--add-modules", "java.base", "--strip-debug", "--no-man-pages", "--no-header-files",
                    "--output", runtime.toString()), "jlink (a JDK runs this: " + System.getProperty("java.home") + ")");
            Map<String, byte[]> files = new LinkedHashMap<>();
            try (Stream<Path> all = Files.walk(runtime)) {
                for (Path file : all.filter(Files::isRegularFile).toList()) {
                    files.put("opt/java/" + runtime.relativize(file), Files.readAllBytes(file));
                }
            }
            for (String library : libraries(runtime)) {
                files.putIfAbsent(library.substring(1), Files.readAllBytes(Path.of(library)));
            }
            classes.forEach((path, bytes) -> files.put("app/" + path, bytes));
            return LocalImages.ensure(docker, tag, files, List.of(JAVA, "-XX:-UsePerfData", "-XX:+UseSerialGC", "-Xmx48m", "-Xss512k",
                    "-cp", "/app", mainClass));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not build the Java image " + tag, e);
        } finally {
            TempDirs.delete(work);
        }
    }

    /** The host's C libraries the runtime's binaries load, and the dynamic loader: what a FROM scratch image lacks. */
    private static List<String> libraries(Path runtime) throws IOException {
        List<String> binaries = new java.util.ArrayList<>(List.of(runtime.resolve("bin/java").toString()));
        try (Stream<Path> all = Files.walk(runtime.resolve("lib"))) {
            all.filter(p -> p.toString().endsWith(".so")).forEach(p -> binaries.add(p.toString()));
        }
        List<String> command = new java.util.ArrayList<>(List.of("ldd"));
        command.addAll(binaries);
        String out = run(command, "ldd (Debian: libc-bin)");
        java.util.Set<String> found = new java.util.TreeSet<>();
        Matcher m = LIBRARY.matcher(out);
        while (m.find()) {
            if (!m.group(1).startsWith(runtime.toString())) {
                found.add(m.group(1));
            }
        }
        return List.copyOf(found);
    }

    private static String run(List<String> command, String what) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            // ldd exits 1 when one of many files is not dynamic (a static library): its output still names the rest
            if (process.waitFor() != 0 && !command.getFirst().equals("ldd")) {
                throw new IOException(what + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(what + " was interrupted", e);
        }
        return out;
    }
}
