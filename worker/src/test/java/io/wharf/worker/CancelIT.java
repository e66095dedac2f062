package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.Control;
import io.wharf.records.ControlAction;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.serde.AvroSerializer;
import io.wharf.topics.Topics;
import io.wharf.worker.runtime.Labels;

/** Cancel requests on wharf.control: running jobs are killed, waiting ones skipped, each reported CANCELLED. */
class CancelIT {
    private final WorkerHarness harness = new WorkerHarness(1);

    @AfterEach
    void tearDown() {
        harness.close();
    }

    private void cancel(String jobId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, harness.kafka.bootstrapServers());
        try (KafkaProducer<String, Control> producer = new KafkaProducer<>(p, new StringSerializer(), new AvroSerializer<>(harness.registry))) {
            producer.send(new ProducerRecord<>(Topics.CONTROL, jobId, Control.newBuilder().setJobId(jobId).setAction(ControlAction.CANCEL)
                    .setReason("test says stop").setRequestedAt(Instant.now()).build()));
        }
    }

    private JobResult awaitResult(String jobId, Duration within) {
        return harness.awaitResult(jobId, within);
    }

    @Test
    void shouldKillARunningJobAndReportItCancelled() {
        String worker = "w-cancel-" + harness.pool;
        harness.startWorker(worker, 2);
        FunctionSpec fn = harness.function(harness.pool + "-forever").setTimeoutMillis(120_000).setCommand(List.of("sleep", "600")).build();
        String jobId = harness.pool + "-running";
        harness.submit(harness.job(jobId, fn, new byte[0]));
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.JOB, jobId)).exec().isEmpty());

        long requested = System.currentTimeMillis();
        cancel(jobId);
        JobResult result = awaitResult(jobId, Duration.ofSeconds(30));
        assertThat(result.getStatus()).isEqualTo(JobStatus.CANCELLED);
        assertThat(result.getError()).contains("test says stop");
        assertThat(result.getTimings().getExitedAt() - requested).as("killed promptly").isLessThan(10_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> harness.docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(Map.of(Labels.JOB, jobId)).exec().isEmpty());
    }

    @Test
    void shouldCancelAJobRunningInAWarmContainer() {
        harness.startWorker("w-hotcancel-" + harness.pool, 2);
        FunctionSpec fn = harness.function(harness.pool + "-hotslow").setTimeoutMillis(120_000)
                .setHot(io.wharf.records.HotSettings.newBuilder().build())
                .setCommand(List.of("sh", "-c", "exec 3<\"$WHARF_HOT_IN\" 4>\"$WHARF_HOT_OUT\"; while read -r id p <&3; do sleep 600; done")).build();
        String jobId = harness.pool + "-hotrunning";
        harness.submit(harness.job(jobId, fn, new byte[0]));
        await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.FUNCTION, fn.getName())).exec().isEmpty());
        cancel(jobId);
        JobResult result = awaitResult(jobId, Duration.ofSeconds(30));
        assertThat(result.getStatus()).isEqualTo(JobStatus.CANCELLED);
    }

    @Test
    void shouldSkipAWaitingJobAndOneCancelledBeforeAnyWorkerSawIt() {
        String early = harness.pool + "-early";
        cancel(early);
        FunctionSpec fn = harness.function(harness.pool + "-quick").setCommand(List.of("sh", "-c", "echo ran")).build();
        harness.submit(harness.job(early, fn, new byte[0]));
        harness.startWorker("w-skip-" + harness.pool, 1);
        JobResult earlyResult = awaitResult(early, Duration.ofSeconds(60));
        assertThat(earlyResult.getStatus()).isEqualTo(JobStatus.CANCELLED);
        assertThat(earlyResult.getExitCode()).as("never ran").isNull();

        FunctionSpec slow = harness.function(harness.pool + "-blocker").setCommand(List.of("sleep", "4")).build();
        harness.submit(harness.job(harness.pool + "-blocker-1", slow, new byte[0]));
        String waiting = harness.pool + "-waiting";
        harness.submit(harness.job(waiting, fn, new byte[0]));
        await().atMost(Duration.ofSeconds(30)).until(() -> !harness.docker.listContainersCmd()
                .withLabelFilter(Map.of(Labels.JOB, harness.pool + "-blocker-1")).exec().isEmpty());
        cancel(waiting);
        JobResult waitingResult = awaitResult(waiting, Duration.ofSeconds(60));
        assertThat(waitingResult.getStatus()).isEqualTo(JobStatus.CANCELLED);
        assertThat(waitingResult.getBody().remaining()).isZero();
        assertThat(waitingResult.getExitCode()).isNull();
    }
}
