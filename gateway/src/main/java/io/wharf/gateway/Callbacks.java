package io.wharf.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.client.WharfClient;
import io.wharf.gateway.http.ApiError;
import io.wharf.gateway.http.CallbackRequests;
import io.wharf.gateway.http.ResultResponses;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.topics.RoleAcls;
import io.wharf.topics.Topics;

/**
 * POSTs each final result that carries a callback URL (an async call's {@code X-Callback-Url}, which the job carries
 * to its result) to it: the output
 * as the body (a failure's JSON for other statuses), with {@code X-Call-Id} and {@code X-Wharf-Status}. The gateway's
 * instances share one consumer group on {@code wharf.results}, so each result is delivered by one of them. A batch's
 * offsets are committed once each of its callbacks got its first try; a failing one is retried with backoff (1 s
 * doubling to 60 s) for a bounded time by the instance that tried it, so an instance that dies meanwhile ends those
 * retries (docs/gateway.md). A retry under an idempotency key gets its first call's result, when that comes, with
 * {@code Idempotent-Replayed: true}.
 */
final class Callbacks implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Callbacks.class);
    static final String GROUP = RoleAcls.GATEWAY_GROUP_PREFIX + "callbacks";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration FIRST_TRY = Duration.ofSeconds(15);
    /** How often offsets are committed while no result asks for a callback (one that does is committed at once). */
    private static final Duration IDLE_COMMIT = Duration.ofSeconds(5);

    private final WharfClient client;
    private final CallbackRequests allowed;
    private final Duration retryFor;
    private final KafkaConsumer<String, JobResult> consumer;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();
    private final Thread thread;
    private volatile boolean closed;
    private long lastCommit = System.nanoTime();

    Callbacks(WharfClient client, CallbackRequests allowed, Duration retryFor) {
        this.client = client;
        this.allowed = allowed;
        this.retryFor = retryFor;
        this.consumer = client.groupConsumer(GROUP, JobResult.class);
        this.thread = Thread.ofPlatform().daemon().name("wharf-gateway-callbacks").start(this::run);
    }

    private void run() {
        try {
            consumer.subscribe(List.of(Topics.RESULTS));
            while (!closed) {
                ConsumerRecords<String, JobResult> batch = consumer.poll(Duration.ofMillis(500));
                if (batch.isEmpty()) {
                    continue;
                }
                List<CompletableFuture<Void>> firstTries = new ArrayList<>();
                for (ConsumerRecord<String, JobResult> record : batch) {
                    if (record.value() != null && record.value().getCallback() != null) {
                        firstTries.add(deliver(record.value().getCallback(), record.value()));
                    }
                }
                long now = System.nanoTime();
                if (!firstTries.isEmpty()) {
                    CompletableFuture.allOf(firstTries.toArray(CompletableFuture[]::new)).get(FIRST_TRY.toSeconds() + 5, TimeUnit.SECONDS);
                    consumer.commitSync();
                    lastCommit = now;
                } else if (now - lastCommit >= IDLE_COMMIT.toNanos()) {
                    // Nothing to deliver: re-reading these after a restart costs nothing but the reading.
                    consumer.commitAsync();
                    lastCommit = now;
                }
            }
        } catch (WakeupException e) {
            // closed
        } catch (Exception e) {
            if (!closed) {
                log.error("Callbacks stopped: {}", e.toString());
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Tries once now; the future completes after that try, further tries go on in the background. */
    private CompletableFuture<Void> deliver(String url, JobResult result) {
        CompletableFuture<Void> firstTry = new CompletableFuture<>();
        Thread.ofVirtual().name("wharf-callback-" + result.getJobId()).start(() -> {
            long deadline = System.nanoTime() + retryFor.toNanos();
            JobResult answer = result;
            if (result.getDuplicateOf() != null) {
                // A retry under an idempotency key is answered by the first call's job, whenever that ends.
                firstTry.complete(null);
                answer = firstAnswer(result, deadline);
                if (answer == null) {
                    return;
                }
            }
            Duration backoff = Duration.ofSeconds(1);
            for (int attempt = 1; ; attempt++) {
                String failure = post(url, answer, answer != result);
                firstTry.complete(null);
                if (failure == null) {
                    return;
                }
                if (System.nanoTime() + backoff.toNanos() > deadline || failure.startsWith("refused")) {
                    log.warn("Callback of job {} to {} given up after {} tries: {}", result.getJobId(), url, attempt, failure);
                    return;
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException e) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(60)) > 0 ? Duration.ofSeconds(60) : backoff.multipliedBy(2);
            }
        });
        return firstTry;
    }

    /** The result of the job a duplicate's key first made, or null if it did not come before the deadline. */
    private JobResult firstAnswer(JobResult duplicate, long deadline) {
        try {
            return client.resultOf(duplicate.getDuplicateOf()).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            log.warn("Callback of job {} given up: job {}, whose result answers it, had none within {} s", duplicate.getJobId(),
                    duplicate.getDuplicateOf(), retryFor.toSeconds());
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            log.warn("Callback of job {} given up: the result of job {}, which answers it, could not be read: {}", duplicate.getJobId(),
                    duplicate.getDuplicateOf(), e.getCause().getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** One POST; null if the receiver took it (2xx), else why not. */
    private String post(String url, JobResult result, boolean replayed) {
        URI target;
        try {
            target = allowed.check(url); // again: a name may resolve elsewhere now
        } catch (ApiError e) {
            return "refused: " + e.getMessage();
        }
        try {
            byte[] body;
            String type;
            if (result.getStatus() == JobStatus.SUCCEEDED) {
                body = ResultResponses.bytes(result.getBody());
                type = "application/octet-stream";
            } else {
                body = JSON.writeValueAsBytes(ResultResponses.failureBody(result));
                type = "application/json";
            }
            HttpRequest.Builder request = HttpRequest.newBuilder(target).timeout(FIRST_TRY).header("Content-Type", type)
                    .header(ResultResponses.CALL_ID, result.getJobId()).header("X-Wharf-Status", result.getStatus().name())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body));
            if (replayed) {
                request.header(ResultResponses.REPLAYED, "true");
            }
            HttpResponse<Void> response = http.send(request.build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() / 100 == 2 ? null : "HTTP " + response.statusCode();
        } catch (java.io.IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        http.close();
    }
}
