package io.wharf.gateway;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;

import com.github.dockerjava.api.DockerClient;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.dispatcher.Dispatcher;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.ops.Telemetry;
import io.wharf.records.FunctionSpec;
import io.wharf.testkit.SharedServices;
import io.wharf.topics.Topics;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.Worker;
import io.wharf.worker.WorkerConfig;

/**
 * What the gateway's integration tests run against, once per test JVM: the shared broker and registry, a
 * dispatcher, a worker with 4 slots and a gateway on a free port; {@link #call} makes real HTTP requests to it.
 */
final class GatewayStack {
    private static GatewayStack shared;

    final String bootstrap = SharedServices.kafka().bootstrapServers();
    final String registry = SharedServices.registry().confluentUrl();
    final String suffix = UUID.randomUUID().toString().substring(0, 6);
    /** The dispatcher's application id, which prefixes its internal topics. */
    final String dispatcherId = "gateway-it-" + suffix;
    final WharfClient client;
    final Dispatcher dispatcher;
    final Worker worker;
    /** The worker's meters, read as its /metrics would be. */
    final SimpleMeterRegistry workerMeters = new SimpleMeterRegistry();
    final Gateway gateway;
    final DockerClient docker = DockerEngine.client();
    final String image = LocalImages.busybox(docker);
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Every span the stack's roles finished, kept in memory for the tests to read. */
    final InMemorySpanExporter spans = InMemorySpanExporter.create();
    final OpenTelemetrySdk traces = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
    private final Path state;

    private GatewayStack() throws IOException {
        client = new WharfClient(new Endpoints(bootstrap, registry));
        try (Admin admin = client.admin()) {
            Topics.ensure(admin, Topics.core(4, (short) 1, List.of(Topics.DEFAULT_POOL)));
        }
        state = Files.createTempDirectory("wharf-gateway-it-");
        dispatcher = new Dispatcher(Map.of(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, DispatcherConfig.REGISTRY_URL_CONFIG, registry,
                DispatcherConfig.STATE_DIR_CONFIG, state.toString(), DispatcherConfig.APPLICATION_ID_CONFIG, dispatcherId,
                DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, 10), new Telemetry(new SimpleMeterRegistry(), traces)).start();
        worker = new Worker(Map.of(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, WorkerConfig.REGISTRY_URL_CONFIG, registry,
                WorkerConfig.ID_CONFIG, "gateway-it-" + suffix, WorkerConfig.SLOTS_CONFIG, 4), new Telemetry(workerMeters, traces)).start();
        gateway = startGateway();
    }

    static synchronized GatewayStack shared() throws IOException {
        if (shared == null) {
            shared = new GatewayStack();
            GatewayStack started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "wharf-gateway-stack-stopper"));
        }
        return shared;
    }

    /** Another gateway instance on the same cluster. */
    Gateway startGateway() {
        return startGateway(Map.of());
    }

    /** Another gateway instance on the same cluster, with {@code settings} too. */
    Gateway startGateway(Map<String, Object> settings) {
        Map<String, Object> all = new HashMap<>(settings);
        all.putAll(Map.of(GatewayConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, GatewayConfig.REGISTRY_URL_CONFIG, registry,
                GatewayConfig.PORT_CONFIG, 0, GatewayConfig.SYNC_ALLOWANCE_MS_CONFIG, 20_000));
        return new Gateway(all, null, traces).start();
    }

    /** A unique function name with {@code prefix}, deployed as {@code customize} makes it (busybox, 64 MiB, 20 s). */
    String deploy(String prefix, String tenant, java.util.function.Consumer<FunctionSpec.Builder> customize) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
        FunctionSpec.Builder spec = FunctionSpec.newBuilder().setName(name).setImage(image).setTenant(tenant).setMemoryMb(64)
                .setTimeoutMillis(20_000);
        customize.accept(spec);
        client.deploy(spec.build());
        return name;
    }

    /** A new key of {@code tenant}'s. */
    String key(String tenant, boolean admin) {
        return client.issueApiKey(tenant, admin, "gateway test").key();
    }

    HttpResponse<String> call(Gateway to, String method, String path, String key, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(to.url() + path)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> call(String method, String path, String key, String body) throws Exception {
        return call(gateway, method, path, key, body, Map.of());
    }

    static Map<String, String> headers(String... pairs) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            out.put(pairs[i], pairs[i + 1]);
        }
        return out;
    }

    private void close() {
        gateway.close();
        worker.close();
        dispatcher.close();
        client.close();
        try {
            docker.close();
        } catch (IOException e) {
            // the JVM is ending
        }
        TempDirs.delete(state);
    }
}
