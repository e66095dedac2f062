package io.wharf.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.wharf.testkit.SharedServices;

/**
 * Chaos at CI size (the same run as {@code ./wharf bench chaos}, smaller): workers SIGKILLed every 5 s and restarted,
 * the dispatcher SIGKILLed once, and on a three-node cluster one broker SIGKILLed and restarted; every job has
 * exactly one committed result, as its first attempt, with its own output, and no container is left behind.
 */
class ChaosIT {
    @Test
    void twoThousandJobsOfMixedLengthsEachHaveExactlyOneResultThroughWorkerAndDispatcherKills() throws Exception {
        Chaos.Report report = new Chaos(new Chaos.Settings(2_000, 3, 3, 4, 1, Duration.ofSeconds(5), Duration.ofSeconds(60), 1500,
                SharedServices.registry().confluentUrl())).run();
        assertThat(report.workerKills()).as("workers killed").isGreaterThanOrEqualTo(3);
        assertThat(report.dispatcherKills()).isEqualTo(1);
        assertClean(report);
    }

    @Test
    void aThreeNodeClusterLosingABrokerMidRunLosesNoJobAndNoResult() throws Exception {
        Chaos.Report report = new Chaos(new Chaos.Settings(600, 0, 3, 4, 3, Duration.ofSeconds(5), Duration.ofSeconds(90), 1500,
                SharedServices.registry().confluentUrl())).run();
        assertThat(report.brokerKills()).isEqualTo(1);
        assertClean(report);
    }

    private static void assertClean(Chaos.Report report) {
        assertThat(report.lost()).as("jobs without a result").isZero();
        assertThat(report.duplicated()).as("second results").isZero();
        assertThat(report.retried()).as("results of a later attempt").isZero();
        assertThat(report.notSucceeded()).as("results other than SUCCEEDED").isZero();
        assertThat(report.wrongBodies()).as("results with another job's output").isZero();
        assertThat(report.containersLeft()).as("containers left behind").isZero();
    }
}
