package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import com.github.dockerjava.api.DockerClient;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;

import io.wharf.client.WharfClient;
import io.wharf.dispatcher.Dispatcher;
import io.wharf.embedded.Committed;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.LocalImages;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.ops.Role;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.testkit.SharedServices;
import io.wharf.topics.Topics;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.Worker;
import io.wharf.worker.runtime.Labels;

/**
 * The broker goes away for 90 s while a job runs: the dispatcher and the worker stay up and resume by themselves,
 * the job has exactly one result, and new jobs run without restarting anything.
 */
class BrokerOutageIT {
    private static final Duration OUTAGE = Duration.ofSeconds(90);

    /**
     * What the clients do about the outage (group joins, transactions, Streams' tasks and restores), logged at INFO
     * for this test only: a recovery that stalls where only CI sees it can then be told from its log.
     */
    private static final List<String> RECOVERY_LOGGERS = List.of("org.apache.kafka.streams.processor.internals",
            "org.apache.kafka.clients.consumer.internals", "org.apache.kafka.clients.producer.internals.TransactionManager");

    private EmbeddedKafka kafka;
    private RolesOn roles;

    @BeforeEach
    void logRecovery() {
        RECOVERY_LOGGERS.forEach(name -> ((Logger) LoggerFactory.getLogger(name)).setLevel(Level.INFO));
    }

    @AfterEach
    void stop() {
        if (roles != null) {
            roles.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        RECOVERY_LOGGERS.forEach(name -> ((Logger) LoggerFactory.getLogger(name)).setLevel(null));
    }

    @Test
    void aJobRunningThroughANinetySecondBrokerOutageHasExactlyOneResultAndNewJobsRunAfterwards() throws Exception {
        try (DockerClient docker = DockerEngine.client()) {
            LocalImages.busybox(docker);
            kafka = EmbeddedKafka.start(Files.createTempDirectory("wharf-outage-kafka-"), true, 0);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                Topics.ensure(admin, Topics.core(2, (short) 1, List.of(Topics.DEFAULT_POOL)));
            }
            roles = RolesOn.start(kafka.bootstrapServers(), "outage");
            Dispatcher dispatcher = roles.dispatcher;
            Worker worker = roles.worker;
            WharfClient client = roles.client;
            String workerId = worker.workerId();
            String function = "outage-" + UUID.randomUUID().toString().substring(0, 8);
            client.deploy(FunctionSpec.newBuilder().setName(function).setImage(LocalImages.BUSYBOX).setMemoryMb(64).setTimeoutMillis(120_000)
                    .setCommand(List.of("sh", "-c", "sleep 20; echo survived")).build());

            Event event = client.event(function, new byte[0], "application/octet-stream");
            CompletableFuture<JobResult> result = client.invokeAsync(event);
            await().atMost(Duration.ofSeconds(60)).until(() -> !docker.listContainersCmd()
                    .withLabelFilter(Map.of(Labels.WORKER, workerId, Labels.JOB, event.getId())).exec().isEmpty());

            kafka.stop();
            // Nothing to wait for but the outage itself: both roles must stay up all through it.
            await().during(OUTAGE).atMost(OUTAGE.plusSeconds(10)).until(() -> worker.state() == Role.State.RUNNING
                    && dispatcher.state() == Role.State.RUNNING);
            kafka.restart();

            JobResult survived = awaited(event.getId(), () -> result.get(180, TimeUnit.SECONDS));
            assertThat(survived.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(survived.getBody()).toString()).isEqualTo("survived\n");

            client.deploy(FunctionSpec.newBuilder().setName(function + "-after").setImage(LocalImages.BUSYBOX).setMemoryMb(64)
                    .setTimeoutMillis(30_000).setCommand(List.of("cat")).build());
            Event next = client.event(function + "-after", "next".getBytes(StandardCharsets.UTF_8), "text/plain");
            JobResult after = awaited(next.getId(), () -> client.invoke(next, Duration.ofSeconds(120)));
            assertThat(after.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(resultsFor(event.getId())).as("results of the job that ran through the outage").hasSize(1);
        }
    }

    /** A blocking wait for a result; one that times out fails naming where the job got to, as `wharf job` would show it. */
    private JobResult awaited(String jobId, Callable<JobResult> wait) throws Exception {
        try {
            return wait.call();
        } catch (TimeoutException e) {
            throw new AssertionError("No result for job " + jobId + " after the broker came back. Its state on " + Topics.STATUS + ": "
                    + roles.client.state(jobId).map(Object::toString).orElse("none (the dispatcher never made it a job)")
                    + "; dispatcher " + roles.dispatcher.state() + " " + roles.dispatcher.readiness()
                    + "; worker " + roles.worker.state() + " " + roles.worker.readiness(), e);
        }
    }

    /** Every committed result of {@code jobId} on the results topic. */
    private List<JobResult> resultsFor(String jobId) {
        return Committed.readAll(kafka.bootstrapServers(), Topics.RESULTS, new AvroDeserializer<>(
                new HttpSchemaRegistryClient(SharedServices.registry().confluentUrl()), JobResult.class)).stream()
                .filter(r -> jobId.equals(r.getJobId())).toList();
    }
}
