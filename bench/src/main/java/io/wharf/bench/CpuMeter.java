package io.wharf.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time spent on this machine between two readings of {@code /proc}, in total and per process name (a process's
 * own time plus that of its reaped children, so a container's process counts under its shim or the engine).
 * On a 2-core machine cold throughput is CPU-bound: CPU per job says where a difference comes from.
 */
final class CpuMeter {
    private static final double TICK = 0.01; // USER_HZ is 100 on Linux
    /** The name under which this JVM's JIT compiler threads are counted (their share fades as the JVM warms up). */
    static final String JIT = "JIT of java(this)";
    /** Whether readings also sum this JVM's threads by name (digits folded), under "T:name". */
    static volatile boolean byThread;
    /** The name under which this JVM is counted. */
    static final String SELF_NAME = "java(this)";
    private static final String SELF = Long.toString(ProcessHandle.current().pid());

    record Reading(double busySeconds, Map<String, Double> byName) {
    }

    static Reading read() {
        try {
            String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            double busy = 0;
            // user nice system idle iowait irq softirq steal; guest time is counted in user already
            for (int i = 1; i < Math.min(cpu.length, 9); i++) {
                if (i != 4 && i != 5) { // idle and iowait
                    busy += Long.parseLong(cpu[i]) * TICK;
                }
            }
            Map<String, Double> byName = new HashMap<>();
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                    Stat stat = Stat.of(p);
                    if (stat != null) {
                        byName.merge(group(p.getFileName().toString(), stat.name()), stat.seconds(true), Double::sum);
                    }
                });
            }
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                tasks.map(Stat::of).filter(t -> t != null).forEach(t -> {
                    if (t.name().contains("CompilerThre")) {
                        byName.merge(JIT, t.seconds(false), Double::sum);
                    }
                    if (byThread) {
                        byName.merge("T:" + t.name().replaceAll("[0-9]+", "#"), t.seconds(false), Double::sum);
                    }
                });
            }
            return new Reading(busy, byName);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String group(String pid, String name) {
        if (pid.equals("1")) {
            return "init (reaped orphans)";
        } else if (name.startsWith("kworker")) {
            return "kernel workers"; // a worker's name changes with its current work item
        } else if (name.startsWith("containerd-shim")) {
            return "containerd-shim";
        } else if (name.equals("java")) {
            return pid.equals(SELF) ? SELF_NAME : "java(other)";
        }
        return name;
    }

    /** A process's or thread's name and CPU times from its {@code stat} file; null if it ended meanwhile. */
    private record Stat(String name, long utime, long stime, long cutime, long cstime) {
        static Stat of(Path dir) {
            try {
                String stat = Files.readString(dir.resolve("stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                // fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 after the name
                return new Stat(stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')), Long.parseLong(f[11]), Long.parseLong(f[12]),
                        Long.parseLong(f[13]), Long.parseLong(f[14]));
            } catch (IOException | RuntimeException gone) {
                return null;
            }
        }

        double seconds(boolean withReapedChildren) {
            return (utime + stime + (withReapedChildren ? cutime + cstime : 0)) * TICK;
        }
    }

    /** CPU seconds of one name between two readings; 0 off Linux. */
    static double seconds(Reading before, Reading after, String name) {
        if (before == null || after == null) {
            return 0;
        }
        return after.byName().getOrDefault(name, 0.0) - before.byName().getOrDefault(name, 0.0);
    }

    /** CPU seconds the whole machine spent between two readings; 0 off Linux. */
    static double busySeconds(Reading before, Reading after) {
        return before == null || after == null ? 0 : after.busySeconds() - before.busySeconds();
    }

    /** "CPU 0.25 s/job (java 0.10, dockerd 0.08, ...)" between two readings, or empty off Linux. */
    static String perJob(Reading before, Reading after, int jobs) {
        return perJob(before, after, jobs, 0.002, "job");
    }

    /** As {@link #perJob(Reading, Reading, int)} per {@code unit}, listing the names that spent at least {@code minSeconds} per unit. */
    static String perJob(Reading before, Reading after, int jobs, double minSeconds, String unit) {
        if (before == null || after == null) {
            return "";
        }
        return after.byName().keySet().stream()
                .map(name -> Map.entry(name, seconds(before, after, name)))
                .filter(e -> e.getValue() / jobs >= minSeconds)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .limit(byThread ? 30 : 7)
                .map(e -> String.format(minSeconds < 0.001 ? "%s %.4f" : "%s %.3f", e.getKey(), e.getValue() / jobs))
                .collect(Collectors.joining(", ", String.format(minSeconds < 0.001 ? "CPU %.4f s/%s (" : "CPU %.3f s/%s (", busySeconds(before, after) / jobs, unit), ")"));
    }
}
