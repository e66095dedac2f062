package io.wharf.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Wharf role ({@code WorkerMain}, {@code DispatcherMain}) as a process of its own, so that the chaos run can SIGKILL
 * it as a crash would and start it again with the same settings; it remembers the highest resident memory any of
 * its incarnations reached ({@code VmHWM}).
 */
final class RoleProcess {
    private final String name;
    private final String mainClass;
    private final Map<String, Object> settings;
    private final Path log;
    private Process process;
    private long peakRssKb;
    private long logAtStart;

    RoleProcess(String name, String mainClass, Map<String, Object> settings, Path logDir) {
        this.name = name;
        this.mainClass = mainClass;
        this.settings = settings;
        this.log = logDir.resolve(name + ".log");
    }

    String name() {
        return name;
    }

    synchronized void start() throws IOException {
        logAtStart = Files.exists(log) ? Files.size(log) : 0;
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), mainClass));
        settings.forEach((k, v) -> command.add(k + "=" + v));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("WHARF_LOG_LEVEL", "INFO"); // the roles' own lines, to read after a run
        process = builder.start();
    }

    /** SIGKILL: no drain, no commit, no cleanup. */
    synchronized void kill() throws InterruptedException {
        sample();
        if (process != null) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            process = null;
        }
    }

    /** SIGTERM, then waits for the role to drain and exit; its exit code. */
    synchronized int stop() throws InterruptedException {
        sample();
        if (process == null) {
            return -1;
        }
        process.destroy();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        int code = process.exitValue();
        process = null;
        return code;
    }

    /** Reads the process's resident-memory high-water mark. */
    synchronized void sample() {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    peakRssKb = Math.max(peakRssKb, Long.parseLong(line.replaceAll("[^0-9]", "")));
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone meanwhile, or not Linux: no figure
        }
    }

    synchronized long peakRssMb() {
        return peakRssKb / 1024;
    }

    Path log() {
        return log;
    }

    /** Whether the latest incarnation's log has a line containing {@code text}. */
    synchronized boolean loggedSinceStart(String text) {
        try {
            byte[] all = Files.readAllBytes(log);
            return new String(all, (int) Math.min(logAtStart, all.length), (int) Math.max(0, all.length - logAtStart),
                    java.nio.charset.StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }
}
