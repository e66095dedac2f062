package io.wharf.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time spent on this machine between two readings of {@code /proc}, in total and per process name (a process's
 * own time plus that of its reaped children, so a container's process counts under its shim or the engine).
 * On a 2-core machine cold throughput is CPU-bound: CPU per job says where a difference comes from.
 */
final class CpuMeter {
    private static final double TICK = 0.01; // USER_HZ is 100 on Linux
    private static final String SELF = Long.toString(ProcessHandle.current().pid());

    record Reading(double busySeconds, Map<String, Double> byName) {
    }

    static Reading read() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            double busy = 0;
            for (int i = 1; i < Math.min(cpu.length, 9); i++) { // user nice system idle iowait irq softirq steal (guest is in user)
                if (i != 4 && i != 5) { // idle and iowait
                    busy += Long.parseLong(cpu[i]) * TICK;
                }
            }
            Map<String, Double> byName = new HashMap<>();
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                    try {
                        String stat = Files.readString(p.resolve("stat"));
                        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        // fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 after the name
                        double t = (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14])) * TICK;
                        if (p.getFileName().toString().equals("1")) {
                            name = "init (reaped orphans)";
                        } else if (name.startsWith("kworker")) {
                            name = "kernel workers"; // a worker's name changes with its current work item
                        } else if (name.startsWith("containerd-shim")) {
                            name = "containerd-shim";
                        } else if (name.equals("java")) {
                            name = p.getFileName().toString().equals(SELF) ? "java(this)" : "java(other)";
                        }
                        byName.merge(name, t, Double::sum);
                    } catch (IOException | RuntimeException gone) {
                        // the process ended meanwhile
                    }
                });
            }
            // This JVM split into JIT compiler threads and the rest (the JIT's share fades as a JVM warms up).
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                tasks.forEach(t -> {
                    try {
                        String stat = Files.readString(t.resolve("stat"));
                        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                        if (name.contains("CompilerThre")) {
                            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                            byName.merge("  of which JIT", (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK, Double::sum);
                        }
                    } catch (IOException | RuntimeException gone) {
                        // the thread ended meanwhile
                    }
                });
            }
            return new Reading(busy, byName);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** "CPU 0.25 s/job (java 0.10, dockerd 0.08, ...)" between two readings, or empty off Linux. */
    static String perJob(Reading before, Reading after, int jobs) {
        if (before == null || after == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(String.format("CPU %.3f s/job (", (after.busySeconds() - before.busySeconds()) / jobs));
        after.byName().entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.byName().getOrDefault(e.getKey(), 0.0)))
                .filter(e -> e.getValue() / jobs >= 0.002)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .limit(7)
                .forEach(e -> out.append(String.format("%s %.3f, ", e.getKey(), e.getValue() / jobs)));
        if (out.charAt(out.length() - 1) == ' ' && out.charAt(out.length() - 2) == ',') {
            out.setLength(out.length() - 2);
        }
        return out.append(')').toString();
    }
}
