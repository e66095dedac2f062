package io.wharf.worker.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.RegistryAuth;
import io.wharf.records.NetworkMode;
import io.wharf.records.PoolPolicy;
import io.wharf.rules.PoolPolicies;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.InMemorySchemaRegistryClient;
import io.wharf.worker.runtime.FakeContainerRunner;
import io.wharf.worker.runtime.RunOutcome;

/** Every final status an attempt can end with, and cancels before, while and after its run, on the fake runner. */
class JobExecutionTest {
    private static final String IMAGE = "fake/busybox";
    private static final long NOW = 1_700_000_000_000L;

    private final FakeContainerRunner runner = new FakeContainerRunner(Set.of(IMAGE));
    private final Map<String, String> cancelled = new ConcurrentHashMap<>();
    private final MockProducer<String, byte[]> logs = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private PoolPolicy policy = PoolPolicies.defaults("default");
    private final JobExecution execution = execution(null);

    private JobExecution execution(SealedSecrets key) {
        return new JobExecution(new JobExecution.Settings("w1", 1024, 4, key, 3, () -> policy), runner, cancelled::get,
                job -> new LogShipper(job.getJobId(), job.getFunction().getName(), job.getAttempt(), 1 << 20, logs,
                        new AvroSerializer<>(registry)), state -> java.util.concurrent.CompletableFuture.completedFuture(null), new io.wharf.worker.runtime.WorkerMeters(meters), io.opentelemetry.api.OpenTelemetry.noop().getTracer("test"), Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));
    }

    private static FunctionSpec.Builder fn(String script) {
        return FunctionSpec.newBuilder().setName("fn").setImage(IMAGE).setCommand(List.of("sh", "-c", script)).setMemoryMb(64)
                .setTimeoutMillis(30_000);
    }

    private static Job job(String id, FunctionSpec fn, String payload) {
        Instant created = Instant.ofEpochMilli(NOW - 50);
        return Job.newBuilder().setJobId(id).setFunction(fn).setPayload(ByteBuffer.wrap(payload.getBytes(StandardCharsets.UTF_8)))
                .setEventCreatedAt(created).setEnqueuedAt(created).build();
    }

    private static String body(JobResult result) {
        return StandardCharsets.UTF_8.decode(result.getBody().duplicate()).toString();
    }

    @Test
    void shouldSucceedWithStdoutAsTheBodyAndTheWorkersIdentity() throws Exception {
        assertThat(execution.beforeRun(job("j1", fn("cat").build(), "ping"), NOW)).as("a job to run").isNull();
        JobResult result = execution.run(job("j1", fn("cat").build(), "ping"), NOW - 10);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(body(result)).isEqualTo("ping");
        assertThat(result.getError()).isNull();
        assertThat(result.getStderrTail()).as("stderr of a success is not kept").isNull();
        assertThat(result.getWorkerId()).isEqualTo("w1");
        assertThat(result.getCompletedAt()).isEqualTo(Instant.ofEpochMilli(NOW));
        assertThat(result.getTimings().getDequeuedAt()).isEqualTo(NOW - 10);
        assertThat(runner.requests).singleElement().satisfies(r -> assertThat(r.env())
                .containsEntry("WHARF_JOB_ID", "j1").containsEntry("WHARF_FUNCTION", "fn").containsEntry("WHARF_ATTEMPT", "1"));
        assertThat(meters.get(io.wharf.worker.runtime.WorkerMeters.IN_FLIGHT).tag("function", "fn").gauge().value()).as("none running after").isZero();
    }

    @Test
    void shouldFailWithTheExitCodeAndTheEndOfStderr() throws Exception {
        JobResult result = execution.run(job("j2", fn("echo no input >&2; exit 3").build(), ""), NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(result.getExitCode()).isEqualTo(3);
        assertThat(result.getError()).isEqualTo("Exited with code 3");
        assertThat(result.getStderrTail()).contains("no input");
    }

    @Test
    void shouldFailWithTheEnginesReasonWhenTheContainerCannotRun() throws Exception {
        JobResult result = execution.run(job("j3", fn("cat").setImage("fake/missing").build(), ""), NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(result.getError()).contains("fake/missing");
        assertThat(result.getExitCode()).isNull();
    }

    @Test
    void shouldTimeOutNamingTheLimit() throws Exception {
        JobResult result = execution.run(job("j4", fn("sleep 30").setTimeoutMillis(100).build(), ""), NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.TIMED_OUT);
        assertThat(result.getError()).isEqualTo("Killed after its timeout of 100 ms");
    }

    @Test
    void shouldReportAnOomKillNamingTheMemoryLimitWhateverTheExitCode() throws Exception {
        runner.outcomes = r -> new RunOutcome(0, false, true, new byte[0], false, "", null, "sha256:x", 0, NOW, NOW, NOW, NOW);
        JobResult result = execution.run(job("j5", fn("cat").build(), ""), NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.OOM_KILLED);
        assertThat(result.getError()).contains("memory limit of 64 MiB");
    }

    @Test
    void shouldExpireAJobTakenPastItsDeadlineWithoutRunningIt() {
        Job late = job("j6", fn("cat").setMaxJobAgeMillis(10L).build(), "");
        late.setDeadline(Instant.ofEpochMilli(NOW - 40));
        JobResult result = execution.beforeRun(late, NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.EXPIRED);
        assertThat(result.getError()).contains("maxJobAgeMillis of 10");
        assertThat(runner.requests).isEmpty();
    }

    @Test
    void shouldNotRunAJobCancelledBeforeItsRun() throws Exception {
        cancelled.put("j7", "changed my mind");
        assertThat(execution.beforeRun(job("j7", fn("cat").build(), ""), NOW).getStatus()).as("at take").isEqualTo(JobStatus.CANCELLED);
        JobResult result = execution.run(job("j7", fn("cat").build(), ""), NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.CANCELLED);
        assertThat(result.getError()).isEqualTo("Cancelled: changed my mind");
        assertThat(runner.requests).isEmpty();
    }

    @Test
    void shouldKillTheContainerOfAJobCancelledWhileItRuns() throws Exception {
        Job job = job("j8", fn("sleep 60").build(), "");
        CompletableFuture<JobResult> run = CompletableFuture.supplyAsync(() -> {
            try {
                return execution.run(job, NOW);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> runner.running("j8"));
        assertThat(execution.running()).containsExactly("j8");
        cancelled.put("j8", "operator");
        execution.cancel("j8");
        JobResult result = run.get();
        assertThat(result.getStatus()).isEqualTo(JobStatus.CANCELLED);
        assertThat(result.getExitCode()).isEqualTo(137);
        assertThat(runner.kills).contains("j8");
        assertThat(execution.running()).isEmpty();
    }

    @Test
    void shouldKeepSucceededWhenTheCancelArrivesAsTheRunEndsOnItsOwn() throws Exception {
        runner.outcomes = r -> {
            cancelled.put(r.jobId(), "too late"); // read while the container was exiting 0
            return null;
        };
        JobResult result = execution.run(job("j13", fn("cat").build(), "done"), NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(body(result)).isEqualTo("done");
    }

    @Test
    void shouldLeaveTheResultOfAJobCancelledAfterItsRun() throws Exception {
        JobResult result = execution.run(job("j9", fn("cat").build(), "done"), NOW);
        cancelled.put("j9", "too late");
        execution.cancel("j9");
        assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(runner.kills).isEmpty();
    }

    @Test
    void shouldFailAJobWhoseSealedPasswordThisWorkerCannotOpenNamingTheSetting() throws Exception {
        SealedSecrets deployers = SealedSecrets.fromBase64("k", SealedSecrets.newKey());
        FunctionSpec sealed = fn("cat").setRegistryAuth(RegistryAuth.newBuilder().setUsername("u")
                .setPassword(deployers.seal("pw", FunctionSecrets.registryPassword(fn("cat").build()))).build()).build();
        JobResult result = execution.run(job("j10", sealed, ""), NOW);
        assertThat(result.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(result.getError()).contains("wharf.secrets.key");
        assertThat(runner.requests).isEmpty();
        assertThat(execution(deployers).run(job("j11", sealed, ""), NOW).getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(runner.requests).singleElement().satisfies(r -> assertThat(r.registryPassword()).isEqualTo("pw"));
    }

    @Test
    void shouldAbandonARunWhenItsThreadIsInterruptedLeavingNoContainer() throws Exception {
        Job job = job("j12", fn("sleep 60").build(), "");
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            thread.complete(Thread.currentThread());
            try {
                execution.run(job, NOW);
                ended.complete(null);
            } catch (Throwable e) {
                ended.complete(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> runner.running("j12"));
        thread.get().interrupt();
        assertThat(ended.get()).isInstanceOf(InterruptedException.class);
        assertThat(runner.removeStale()).isZero();
    }

    @Test
    void shouldRefuseAJobWhoseFunctionAsksForMoreThanItsPoolAllowsNamingThePolicy() throws Exception {
        JobResult host = execution.run(job("p1", fn("true").setNetwork(NetworkMode.HOST).build(), ""), NOW);
        assertThat(host.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(host.getError()).contains("policy of its pool", "pool default does not allow host network", "--allow-host-network");
        JobResult root = execution.run(job("p2", fn("true").setUser("0:0").build(), ""), NOW);
        assertThat(root.getError()).contains("does not allow running as root");
        policy = PoolPolicy.newBuilder(policy).setMaxMemoryMb(32).build();
        assertThat(execution.run(job("p3", fn("true").build(), ""), NOW).getError()).contains("at most 32 MiB");
        assertThat(runner.requests).isEmpty();
    }

    @Test
    void shouldRunAFunctionWithoutAUserAsNobodyUnlessItsPoolAllowsRoot() throws Exception {
        execution.run(job("u1", fn("true").build(), ""), NOW);
        policy = PoolPolicy.newBuilder(policy).setAllowRoot(true).setAllowHostNetwork(true).build();
        execution.run(job("u2", fn("true").setNetwork(NetworkMode.HOST).build(), ""), NOW);
        execution.run(job("u3", fn("true").setUser("1000").build(), ""), NOW);
        assertThat(runner.requests).extracting(r -> r.user()).containsExactly(PoolPolicies.NON_ROOT_USER, null, "1000");
    }

    @Test
    void shouldGiveTheContainerTheHttpRequestItsJobCameFrom() throws Exception {
        Job job = Job.newBuilder(job("h1", fn("true").build(), "body")).setHttp(io.wharf.records.HttpRequest.newBuilder().setMethod("DELETE")
                .setPath("/orders/7").setQuery("force=1").setHeaders(Map.of("content-type", "text/plain", "x-request-id", "r-1")).build()).build();
        execution.run(job, NOW);
        execution.run(job("h2", fn("true").build(), ""), NOW);
        assertThat(runner.requests.get(0).env()).containsEntry("WHARF_HTTP_METHOD", "DELETE").containsEntry("WHARF_HTTP_PATH", "/orders/7")
                .containsEntry("WHARF_HTTP_QUERY", "force=1").containsEntry("WHARF_HTTP_HEADER_CONTENT_TYPE", "text/plain")
                .containsEntry("WHARF_HTTP_HEADER_X_REQUEST_ID", "r-1");
        assertThat(runner.requests.get(1).env()).doesNotContainKey("WHARF_HTTP_METHOD");
    }
}
