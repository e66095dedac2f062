package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.topics.Topics;
import io.wharf.worker.runtime.Labels;

/**
 * A job whose workers keep dying while it runs (here each is SIGKILLed once the job's container runs, as a job that
 * brings its worker down would) is dead-lettered after three crashes instead of running forever, and the pool goes on.
 */
class PoisonJobIT {
    private static final String WORKER = "poison";
    private final WorkerHarness harness = new WorkerHarness(1);
    private Process worker;

    @AfterEach
    void tearDown() {
        harness.close();
    }

    private String workerId() {
        return WORKER + "-" + harness.pool;
    }

    @Test
    void aJobThatCrashedThreeWorkersIsDeadLetteredAndThePoolKeepsServing() throws Exception {
        FunctionSpec fn = harness.function(harness.pool + "-poison").setCommand(List.of("sleep", "600")).setTimeoutMillis(900_000).build();
        String jobId = harness.pool + "-poison";
        harness.submit(harness.job(jobId, fn, new byte[0]));

        for (int crash = 1; crash <= 3; crash++) {
            worker = harness.startWorkerProcess(workerId(), 2);
            await().atMost(Duration.ofSeconds(60)).until(() -> !harness.docker.listContainersCmd()
                    .withLabelFilter(Map.of(Labels.WORKER, workerId(), Labels.JOB, jobId)).exec().isEmpty());
            // The worker's commit says the job runs there after crash-1 crashes: what its successor reads to count one more.
            String running = "~" + (crash - 1);
            await().atMost(Duration.ofSeconds(30)).until(() -> committedMetadata().contains(running));
            worker.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }

        harness.startWorker(workerId(), 2);
        JobResult poisoned = harness.awaitResult(jobId, Duration.ofSeconds(60));
        assertThat(poisoned.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(poisoned.getError()).contains("running on 3 workers that died").contains(WorkerConfig.MAX_CRASHES_CONFIG).contains(Topics.DLQ);
        assertThat(harness.deadLetters(Topics.jobs(harness.pool))).anySatisfy(letter -> {
            assertThat(letter.getId()).isEqualTo(jobId);
            assertThat(letter.getStatus()).isEqualTo(JobStatus.FAILED);
            assertThat(letter.getOriginalValue()).as("the job record, to be inspected or replayed").isNotNull();
        });

        FunctionSpec echo = harness.function(harness.pool + "-echo").setCommand(List.of("cat")).build();
        harness.submit(harness.job(harness.pool + "-after", echo, "after".getBytes(StandardCharsets.UTF_8)));
        assertThat(harness.awaitResult(harness.pool + "-after", Duration.ofSeconds(60)).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
    }

    private String committedMetadata() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, harness.kafka.bootstrapServers()))) {
            OffsetAndMetadata committed = admin.listConsumerGroupOffsets("wharf-workers-" + harness.pool).partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition(Topics.jobs(harness.pool), 0));
            return committed == null ? "" : committed.metadata();
        }
    }
}
