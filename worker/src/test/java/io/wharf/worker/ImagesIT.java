package io.wharf.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.DockerClientException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AuthConfig;
import com.github.dockerjava.api.model.PushResponseItem;

import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.RegistryAuth;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.SealedSecrets;
import io.wharf.embedded.LocalImages;
import io.wharf.testkit.LocalRegistry;
import io.wharf.worker.docker.ImagePins;

/** Images from a real registry: pinned by digest at deploy, pulled on first use (with credentials), cached within a budget. */
class ImagesIT {
    private static LocalRegistry open;
    private static LocalRegistry locked;
    private WorkerHarness harness;
    private final List<String> created = new ArrayList<>();

    @BeforeAll
    static void startRegistries() {
        open = LocalRegistry.start(null, null);
        locked = LocalRegistry.start("wharf", "s3cret");
    }

    @AfterAll
    static void stopRegistries() {
        open.close();
        locked.close();
    }

    @BeforeEach
    void setUp() {
        harness = new WorkerHarness(2);
    }

    @AfterEach
    void tearDown() {
        harness.close();
        created.forEach(this::removeLocal);
    }

    /** Builds a tiny image printing {@code text}, pushes it as {@code remote}, and removes every local trace of it. */
    private void publish(String remote, String text, AuthConfig auth) throws InterruptedException {
        String local = "wharf-test/pushed-" + UUID.randomUUID().toString().substring(0, 8) + ":1";
        LocalImages.ensure(harness.docker, local, Map.of("version", text.getBytes(StandardCharsets.UTF_8)), List.of("cat", "/version"));
        String repo = remote.substring(0, remote.lastIndexOf(':'));
        String tag = remote.substring(remote.lastIndexOf(':') + 1);
        harness.docker.tagImageCmd(local, repo, tag).exec();
        var push = harness.docker.pushImageCmd(repo).withTag(tag);
        if (auth != null) {
            push.withAuthConfig(auth);
        }
        push.exec(new ResultCallback.Adapter<PushResponseItem>() {
            @Override
            public void onNext(PushResponseItem item) {
                if (item.getErrorDetail() != null) {
                    throw new IllegalStateException("push failed: " + item.getErrorDetail().getMessage());
                }
            }
        }).awaitCompletion(60, TimeUnit.SECONDS);
        removeLocal(remote);
        removeLocal(local);
        created.add(remote);
    }

    private void removeLocal(String image) {
        try {
            String id = harness.docker.inspectImageCmd(image).exec().getId();
            harness.docker.removeImageCmd(id).withForce(true).exec();
        } catch (NotFoundException e) {
            // gone
        }
    }

    private boolean presentLocally(String image) {
        try {
            harness.docker.inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    private JobResult run(FunctionSpec fn) {
        String jobId = fn.getName() + "-" + UUID.randomUUID().toString().substring(0, 6);
        harness.submit(harness.job(jobId, fn, new byte[0]));
        return awaitResult(jobId);
    }

    private JobResult awaitResult(String jobId) {
        return harness.awaitResult(jobId, Duration.ofSeconds(90));
    }

    private static String body(JobResult r) {
        return StandardCharsets.UTF_8.decode(r.getBody()).toString();
    }

    @Test
    void shouldRunThePinnedDigestAfterTheTagMoves() throws Exception {
        harness.startWorker("w-pin-" + harness.pool, 2);
        String image = open.host() + "/wharf/pinned-" + harness.pool + ":stable";
        publish(image, "one\n", null);
        String pinned = ImagePins.pin(harness.docker, image, null, null);
        assertThat(pinned).startsWith(open.host() + "/wharf/pinned-" + harness.pool + "@sha256:");
        removeLocal(image);

        publish(image, "two\n", null); // the tag moves in the registry
        FunctionSpec byDigest = harness.function(harness.pool + "-pinned").setImage(image).setImageDigest(pinned).build();
        JobResult first = run(byDigest);
        assertThat(first.getStatus()).as(first.getError()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(body(first)).isEqualTo("one\n");

        JobResult moving = run(harness.function(harness.pool + "-moving").setImage(image).build());
        assertThat(body(moving)).as("a function deployed without a digest follows the tag").isEqualTo("two\n");
        created.add(pinned);
    }

    @Test
    void shouldPullOnFirstUseAndFailClearlyForAMissingImageWhileOthersRun() throws Exception {
        harness.startWorker("w-pull-" + harness.pool, 4);
        String image = open.host() + "/wharf/fresh-" + harness.pool + ":1";
        publish(image, "pulled\n", null);
        assertThat(presentLocally(image)).isFalse();

        String missing = open.host() + "/wharf/never-pushed-" + harness.pool + ":1";
        FunctionSpec absent = harness.function(harness.pool + "-absent").setImage(missing).build();
        harness.submit(harness.job(harness.pool + "-absent-1", absent, new byte[0]));
        JobResult ok = run(harness.function(harness.pool + "-fresh").setImage(image).build());
        assertThat(ok.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(body(ok)).isEqualTo("pulled\n");
        assertThat(presentLocally(image)).isTrue();

        JobResult failed = awaitResult(harness.pool + "-absent-1");
        assertThat(failed.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.getError()).contains(missing).containsIgnoringCase("not found");
    }

    @Test
    void shouldPullWithTheFunctionsCredentials() throws Exception {
        harness.startWorker("w-auth-" + harness.pool, 2);
        String image = locked.host() + "/wharf/private-" + harness.pool + ":1";
        publish(image, "secret stuff\n", new AuthConfig().withUsername("wharf").withPassword("s3cret").withRegistryAddress(locked.host()));

        JobResult denied = run(harness.function(harness.pool + "-noauth").setImage(image).build());
        assertThat(denied.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(denied.getError()).contains(image).containsIgnoringCase("auth");

        JobResult allowed = run(harness.function(harness.pool + "-auth").setImage(image)
                .setRegistryAuth(RegistryAuth.newBuilder().setUsername("wharf").setPassword("s3cret").build()).build());
        assertThat(allowed.getStatus()).as(allowed.getError()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(body(allowed)).isEqualTo("secret stuff\n");
    }

    @Test
    void anotherTenantCannotRunAPrivateImageBecauseItIsInTheWorkersCache() throws Exception {
        harness.startWorker("w-cache-" + harness.pool, 2);
        String image = locked.host() + "/wharf/tenant-a-" + harness.pool + ":1";
        publish(image, "tenant a\n", new AuthConfig().withUsername("wharf").withPassword("s3cret").withRegistryAddress(locked.host()));
        JobResult a = run(harness.function(harness.pool + "-a").setTenant("a").setImage(image)
                .setRegistryAuth(RegistryAuth.newBuilder().setUsername("wharf").setPassword("s3cret").build()).build());
        assertThat(a.getStatus()).as(a.getError()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(presentLocally(image)).isTrue();

        JobResult none = run(harness.function(harness.pool + "-b").setTenant("b").setImage(image).build());
        assertThat(none.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(none.getError()).contains("is on this worker, but the job's registry credentials (none) could not pull it");
        JobResult wrong = run(harness.function(harness.pool + "-b2").setTenant("b").setImage(image)
                .setRegistryAuth(RegistryAuth.newBuilder().setUsername("wharf").setPassword("guess").build()).build());
        assertThat(wrong.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(wrong.getError()).contains("(user wharf) could not pull it");
        JobResult again = run(harness.function(harness.pool + "-a").setTenant("a").setImage(image)
                .setRegistryAuth(RegistryAuth.newBuilder().setUsername("wharf").setPassword("s3cret").build()).build());
        assertThat(again.getStatus()).as("the credentials that pulled it keep using it").isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void shouldPullWithASealedPasswordOpenedByTheWorkersKey() throws Exception {
        String key = SealedSecrets.newKey();
        SealedSecrets secrets = SealedSecrets.fromBase64("key", key);
        harness.startWorker("w-sealed-" + harness.pool, 2, Map.of(WorkerConfig.SECRETS_KEY_CONFIG, key));
        String image = locked.host() + "/wharf/sealed-" + harness.pool + ":1";
        publish(image, "sealed stuff\n", new AuthConfig().withUsername("wharf").withPassword("s3cret").withRegistryAddress(locked.host()));

        String name = harness.pool + "-sealed";
        FunctionSpec sealed = FunctionSecrets.sealAll(secrets, harness.function(name).setImage(image)
                .setRegistryAuth(RegistryAuth.newBuilder().setUsername("wharf").setPassword("s3cret").build()).build());
        JobResult allowed = run(sealed);
        assertThat(allowed.getStatus()).as(allowed.getError()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(body(allowed)).isEqualTo("sealed stuff\n");

        // Copied into another function's spec, the sealed password does not open.
        JobResult refused = run(FunctionSpec.newBuilder(sealed).setName(harness.pool + "-copied").build());
        assertThat(refused.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(refused.getError()).contains(harness.pool + "-copied", "another function");

        // Left in place while the image is pointed at another registry host, it does not open, and nothing is pulled.
        JobResult moved = run(FunctionSpec.newBuilder(sealed).setImage("127.0.0.1:1/wharf/dump:1").setImageDigest(null).build());
        assertThat(moved.getStatus()).isEqualTo(JobStatus.FAILED);
        assertThat(moved.getError()).contains("registry password of function " + name, "registry host " + locked.host(), "127.0.0.1:1");
    }

    @Test
    void shouldEvictTheLeastRecentlyUsedPulledImageOverTheBudget() throws Exception {
        harness.startWorker("w-lru-" + harness.pool, 1, Map.of(WorkerConfig.IMAGE_CACHE_BYTES_CONFIG, 1L));
        String first = open.host() + "/wharf/lru-a-" + harness.pool + ":1";
        String second = open.host() + "/wharf/lru-b-" + harness.pool + ":1";
        publish(first, "a\n", null);
        publish(second, "b\n", null);
        assertThat(body(run(harness.function(harness.pool + "-a").setImage(first).build()))).isEqualTo("a\n");
        assertThat(presentLocally(first)).isTrue();
        assertThat(body(run(harness.function(harness.pool + "-b").setImage(second).build()))).isEqualTo("b\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> !presentLocally(first));
        assertThat(presentLocally(second)).as("in use when the budget was enforced").isTrue();
    }

    @Test
    void shouldRefuseToPinAnImageThatCannotBePulled() {
        assertThatThrownBy(() -> ImagePins.pin(harness.docker, open.host() + "/wharf/nothing-here:1", null, null))
                .isInstanceOfAny(NotFoundException.class, DockerClientException.class);
    }
}
