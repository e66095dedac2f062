package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import io.wharf.records.Attempt;
import io.wharf.records.AttemptSummary;
import io.wharf.records.DeadLetter;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.records.JobStatus;
import io.wharf.records.RetryPolicy;
import io.wharf.rules.Results;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.InMemorySchemaRegistryClient;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;

/** The retry decision: which records an attempt's outcome becomes. */
class ResultRecordsTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final ResultRecords records = new ResultRecords(registry, new io.wharf.worker.runtime.WorkerMeters(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));

    private static final RetryPolicy RETRY_ON_75 = RetryPolicy.newBuilder().setMaxAttempts(3).setRetryOnExitCodes(List.of(75)).build();

    private static Job job(RetryPolicy retry, int attempt, boolean report) {
        FunctionSpec fn = FunctionSpec.newBuilder().setName("fn").setImage("img").setRetry(retry).build();
        Job job = Job.newBuilder().setJobId("j").setAttempt(attempt).setFunction(fn).setPayload(ByteBuffer.allocate(0))
                .setEventCreatedAt(Instant.EPOCH).setEnqueuedAt(Instant.EPOCH).setReportAttempt(report).build();
        if (attempt > 1) {
            job.setHistory(List.of(AttemptSummary.newBuilder().setAttempt(1).setStatus(JobStatus.FAILED).setExitCode(75)
                    .setFinishedAt(1L).build()));
        }
        return job;
    }

    private static JobResult outcome(Job job, JobStatus status, Integer exit) {
        return Results.of(job, status, status == JobStatus.SUCCEEDED ? null : "why", 10).setExitCode(exit).setWorkerId("w")
                .setBody(ByteBuffer.wrap("out".getBytes(StandardCharsets.UTF_8))).setStderrTail("err").build();
    }

    private JobResult result(ProducerRecord<String, byte[]> r) {
        return new AvroDeserializer<>(registry, JobResult.class).deserialize(r.topic(), r.value());
    }

    private Attempt attempt(ProducerRecord<String, byte[]> r) {
        return new AvroDeserializer<>(registry, Attempt.class).deserialize(r.topic(), r.value());
    }

    /** The records of a final outcome but its state, which must be there, final, and say the result's status. */
    private List<ProducerRecord<String, byte[]>> finals(List<ProducerRecord<String, byte[]>> out) {
        List<ProducerRecord<String, byte[]>> states = out.stream().filter(r -> r.topic().equals(Topics.STATUS)).toList();
        assertThat(states).as("one state on " + Topics.STATUS).hasSize(1);
        JobState state = new AvroDeserializer<>(registry, JobState.class).deserialize(Topics.STATUS, states.get(0).value());
        JobResult written = result(out.stream().filter(r -> r.topic().equals(Topics.RESULTS)).findFirst().orElseThrow());
        assertThat(state.getDone()).isTrue();
        assertThat(state.getPhase().name()).isEqualTo(written.getStatus().name());
        assertThat(state.getJobId()).isEqualTo(written.getJobId());
        return out.stream().filter(r -> !r.topic().equals(Topics.STATUS)).toList();
    }

    @Test
    void shouldReportARetryableFailureToTheDispatcherInsteadOfAResult() {
        Job job = job(RETRY_ON_75, 1, false);
        List<ProducerRecord<String, byte[]>> out = records.of(job, outcome(job, JobStatus.FAILED, 75));
        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo(Topics.ATTEMPTS);
            assertThat(r.key()).isEqualTo("fn");
            assertThat(attempt(r).getFinished()).isFalse();
            assertThat(attempt(r).getJob().getJobId()).isEqualTo("j");
        });
    }

    @Test
    void shouldReportAnExhaustedRetryableFailureSoTheDispatcherGivesUpWithTheReason() {
        Job job = job(RETRY_ON_75, 3, false);
        assertThat(records.of(job, outcome(job, JobStatus.FAILED, 75))).singleElement()
                .satisfies(r -> assertThat(r.topic()).isEqualTo(Topics.ATTEMPTS));
    }

    @Test
    void shouldWriteTheFinalResultOfAFailureThePolicyNeverRetries() {
        Job job = job(RETRY_ON_75, 1, false);
        assertThat(finals(records.of(job, outcome(job, JobStatus.FAILED, 1)))).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo(Topics.RESULTS);
            assertThat(result(r).getStatus()).isEqualTo(JobStatus.FAILED);
            assertThat(result(r).getHistory()).as("a job that ran once has no history").isEmpty();
        });
        Job oom = job(RETRY_ON_75, 1, false);
        assertThat(finals(records.of(oom, outcome(oom, JobStatus.OOM_KILLED, 75)))).singleElement()
                .satisfies(r -> assertThat(r.topic()).isEqualTo(Topics.RESULTS));
        Job plain = job(null, 1, false);
        assertThat(finals(records.of(plain, outcome(plain, JobStatus.FAILED, 75)))).singleElement()
                .satisfies(r -> assertThat(r.topic()).isEqualTo(Topics.RESULTS));
    }

    @Test
    void shouldWriteSuccessesCancelsAndExpiriesAsFinalResultsWhateverThePolicy() {
        for (JobStatus status : List.of(JobStatus.SUCCEEDED, JobStatus.CANCELLED, JobStatus.EXPIRED)) {
            Job job = job(RetryPolicy.newBuilder().setMaxAttempts(5).setRetryOnStatuses(List.of("FAILED", "TIMED_OUT")).build(), 1, false);
            assertThat(finals(records.of(job, outcome(job, status, 0)))).as(status.name()).singleElement()
                    .satisfies(r -> assertThat(result(r).getStatus()).isEqualTo(status));
        }
    }

    @Test
    void shouldCarryEveryAttemptInTheFinalResultOfARetriedJob() {
        Job job = job(RETRY_ON_75, 2, false);
        JobResult last = result(records.of(job, outcome(job, JobStatus.SUCCEEDED, 0)).get(0));
        assertThat(last.getHistory()).extracting(AttemptSummary::getAttempt).containsExactly(1, 2);
        assertThat(last.getHistory().get(1).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void shouldAlsoReportAFinishedAttemptWhenTheDispatcherAskedWithoutBodyOrStderrItDoesNotNeed() {
        Job job = job(null, 1, true);
        List<ProducerRecord<String, byte[]>> out = records.of(job, outcome(job, JobStatus.SUCCEEDED, 0));
        assertThat(out).extracting(ProducerRecord::topic).containsExactly(Topics.RESULTS, Topics.STATUS, Topics.ATTEMPTS);
        assertThat(result(out.get(0)).getBody().remaining()).as("the user's result keeps its body").isEqualTo(3);
        Attempt report = attempt(out.get(2));
        assertThat(report.getFinished()).isTrue();
        assertThat(report.getOutcome().getBody().remaining()).as("no onSuccess chain: no body").isZero();
        assertThat(report.getOutcome().getStderrTail()).isNull();
    }

    @Test
    void shouldCutTheBodyOfAResultTooLargeForItsTopicFlaggingItTruncated() {
        records.limits(new TopicLimits(java.util.Map.of(Topics.RESULTS, 64 * 1024 + TopicLimits.ENVELOPE)));
        Job job = job(null, 1, false);
        JobResult big = Results.of(job, JobStatus.SUCCEEDED, null, 10).setWorkerId("w").setBody(ByteBuffer.wrap(new byte[200 * 1024])).build();
        ProducerRecord<String, byte[]> out = records.of(job, big).get(0);
        assertThat(out.value().length).isLessThanOrEqualTo(64 * 1024);
        JobResult read = result(out);
        assertThat(read.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(read.getBodyTruncated()).isTrue();
        assertThat(read.getBody().remaining()).isBetween(60 * 1024, 64 * 1024);
    }

    @Test
    void shouldEndAsFailedNamingTheLimitWhenAJobLeavesNoRoomForItsRetryReport() {
        records.limits(new TopicLimits(java.util.Map.of(Topics.ATTEMPTS, 16 * 1024 + TopicLimits.ENVELOPE)));
        Job job = job(RETRY_ON_75, 1, false);
        job.setPayload(ByteBuffer.wrap(new byte[40 * 1024]));
        List<ProducerRecord<String, byte[]>> out = records.of(job, outcome(job, JobStatus.FAILED, 75));
        assertThat(finals(out)).singleElement().satisfies(r -> {
            assertThat(r.topic()).isEqualTo(Topics.RESULTS);
            assertThat(result(r).getStatus()).isEqualTo(JobStatus.FAILED);
            assertThat(result(r).getError()).contains("wharf.attempts").contains("max.message.bytes of " + (16 * 1024 + TopicLimits.ENVELOPE));
        });
    }

    @Test
    void shouldDeadLetterAnUndecodableJobRecordNamingWhy() {
        ConsumerRecord<String, byte[]> bad = new ConsumerRecord<>(Topics.jobs("default"), 2, 7L, "k", new byte[] {1, 2});
        ProducerRecord<String, byte[]> letter = records.deadLetter(bad, "id", "Job could not be decoded: x", 5);
        DeadLetter read = new AvroDeserializer<>(registry, DeadLetter.class).deserialize(Topics.DLQ, letter.value());
        assertThat(letter.topic()).isEqualTo(Topics.DLQ);
        assertThat(read.getReason()).isEqualTo("Job could not be decoded: x");
        assertThat(read.getSourceOffset()).isEqualTo(7L);
    }
}
