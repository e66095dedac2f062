package io.wharf.bench;

import java.time.Duration;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./wharf bench chaos}: the chaos run at full size; prints what was lost, run twice and retried, and how fast it failed over. */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = "Jobs under chaos: workers SIGKILLed every few seconds, the dispatcher once, a broker of a three-node cluster once.")
final class ChaosBench implements Callable<Integer> {
    @Option(names = "--jobs", defaultValue = "10000", description = "Jobs (default ${DEFAULT-VALUE}).")
    int jobs;
    @Option(names = "--long-jobs", defaultValue = "10", description = "Of which 60 s jobs (default ${DEFAULT-VALUE}).")
    int longJobs;
    @Option(names = "--workers", defaultValue = "3", description = "Worker processes (default ${DEFAULT-VALUE}).")
    int workers;
    @Option(names = "--slots", defaultValue = "4", description = "Slots per worker (default ${DEFAULT-VALUE}).")
    int slots;
    @Option(names = "--brokers", defaultValue = "3", description = "Kafka nodes: 1, or 3 with one killed and restarted (default ${DEFAULT-VALUE}).")
    int brokers;
    @Option(names = "--kill-every", defaultValue = "5", description = "Seconds between worker kills (default ${DEFAULT-VALUE}).")
    int killEvery;
    @Option(names = "--chaos-seconds", defaultValue = "180", description = "How long the kills go on at most (default ${DEFAULT-VALUE}).")
    int chaosSeconds;
    @Option(names = "--session-ms", defaultValue = "1500", description = "Workers' consumer session timeout (default ${DEFAULT-VALUE}).")
    int sessionMs;
    @Option(names = "--no-baseline",
            description = "Skip the baseline run: by default the same jobs first run on the same setup without kills, for the wall time and memory beside.")
    boolean noBaseline;

    @Override
    public Integer call() throws Exception {
        Chaos.Report calm = noBaseline ? null : new Chaos(new Chaos.Settings(jobs, longJobs, workers, slots, brokers, Duration.ZERO,
                Duration.ZERO, sessionMs, null)).run();
        Chaos.Report report = new Chaos(new Chaos.Settings(jobs, longJobs, workers, slots, brokers, Duration.ofSeconds(killEvery),
                Duration.ofSeconds(chaosSeconds), sessionMs, null)).run();
        if (calm != null) {
            System.out.println("baseline (no kills): " + calm.figures());
        }
        System.out.println("under chaos:         " + report.figures());
        return report.clean() && (calm == null || calm.clean()) ? 0 : 1;
    }
}
