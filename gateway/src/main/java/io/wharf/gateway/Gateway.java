package io.wharf.gateway;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.client.TopicView;
import io.wharf.client.WharfClient;
import io.wharf.gateway.http.AdminRoutes;
import io.wharf.gateway.http.CallbackRequests;
import io.wharf.gateway.http.Callers;
import io.wharf.gateway.http.FunctionRoutes;
import io.wharf.gateway.http.GatewayTraces;
import io.wharf.gateway.http.HttpApi;
import io.wharf.gateway.http.Invocations;
import io.wharf.gateway.http.JobRoutes;
import io.wharf.gateway.http.JobStream;
import io.wharf.gateway.http.TriggerRoutes;
import io.wharf.gateway.http.Webhooks;
import io.wharf.records.ApiKey;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobState;
import io.wharf.rules.JobStates;
import io.wharf.ops.Metrics;
import io.wharf.ops.Role;
import io.wharf.secrets.SealedSecrets;
import io.wharf.sources.Sources;
import io.wharf.topics.Topics;

/**
 * The HTTP front door, one instance of it (start more behind a load balancer: they share nothing but Kafka). Each
 * instance follows the functions and API keys on their compacted topics, awaits results with one consumer of
 * {@code wharf.results}, and serves requests on virtual threads, so a call that waits for its job holds no
 * platform thread.
 */
public final class Gateway implements Role {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    /** What an event needs beside its payload, within wharf.events' record limit: ids, headers, the request line. */
    private static final int EVENT_ROOM = 64 * 1024;

    private final GatewayConfig config;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile State state = State.CREATED;
    private WharfClient client;
    private TopicView<FunctionSpec> functions;
    private TopicView<ApiKey> keys;
    private TopicView<JobState> states;
    private Callbacks callbacks;
    private HttpApi http;
    /** The triggers this process runs, unless wharf.sources.enabled=false. */
    private Sources sources;

    private final Metrics metrics;
    private final boolean ownMetrics;
    private final io.opentelemetry.api.trace.Tracer tracer;
    private volatile List<Role> companions = List.of();

    /** @throws org.apache.kafka.common.config.ConfigException naming a bad setting */
    public Gateway(Map<?, ?> settings) {
        this(settings, null);
    }

    /**
     * A gateway serving {@code metrics} on {@code /metrics} (its own meters and those of the roles sharing the process);
     * null for a set of its own.
     */
    public Gateway(Map<?, ?> settings, Metrics metrics) {
        this(settings, metrics, io.opentelemetry.api.OpenTelemetry.noop());
    }

    /** As above, recording a span per request with {@code openTelemetry} and carrying its context into the events it sends. */
    public Gateway(Map<?, ?> settings, Metrics metrics, io.opentelemetry.api.OpenTelemetry openTelemetry) {
        this.config = new GatewayConfig(settings);
        this.ownMetrics = metrics == null;
        this.metrics = ownMetrics ? new Metrics() : metrics;
        this.tracer = openTelemetry.getTracer("io.wharf.gateway");
    }

    @Override
    public synchronized Gateway start() {
        if (state != State.CREATED) {
            throw new IllegalStateException("A gateway starts once");
        }
        state = State.STARTING;
        try {
            client = new WharfClient(config.endpoints(), config.clientSettings());
            functions = client.view(Topics.FUNCTIONS, FunctionSpec.class, (name, spec) -> { });
            // Payloads are sealed to their function's key with what this instance knows of the function.
            client.payloadKeys(name -> functions.get(name).map(FunctionSpec::getPayloadKey).orElse(null));
            keys = client.view(Topics.API_KEYS, ApiKey.class, (id, key) -> { });
            JobStream stream = new JobStream();
            states = client.view(Topics.STATUS, JobState.class, JobStates::fold,
                    new TopicView.Bound<>(config.getInt(GatewayConfig.STATUS_MAX_JOBS_CONFIG), JobState::getUpdatedAt), (id, state) -> stream.publish(state));
            Duration startup = Duration.ofMillis(config.getLong(GatewayConfig.STARTUP_TIMEOUT_MS_CONFIG));
            if (!functions.awaitCaughtUp(startup) || !keys.awaitCaughtUp(startup) || !states.awaitCaughtUp(startup)) {
                throw new IllegalStateException("The gateway could not read " + Topics.FUNCTIONS + ", " + Topics.API_KEYS + " and " + Topics.STATUS + " from "
                        + config.endpoints().bootstrap() + " within " + startup.toSeconds() + " s (" + GatewayConfig.STARTUP_TIMEOUT_MS_CONFIG + ")");
            }
            int maxBody = Math.min(config.getInt(GatewayConfig.MAX_BODY_BYTES_CONFIG), eventsRecordLimit() - EVENT_ROOM);
            CallbackRequests callbackRequests = new CallbackRequests(config.callbacksAllowed());
            Invocations invocations = new Invocations(client, this::function, maxBody, config.syncAllowance(), callbackRequests);
            JobRoutes jobs = new JobRoutes(client, states, this::function, stream, () -> state == State.RUNNING || state == State.STARTING);
            callbacks = new Callbacks(client, callbackRequests, Duration.ofMillis(config.getLong(GatewayConfig.CALLBACK_RETRY_MS_CONFIG)));
            // A key made a moment ago is found: an unknown id reads the topic to its end once more.
            Callers callers = new Callers(id -> keys.get(id).or(() -> keys.refresh(Duration.ofSeconds(5)) ? keys.get(id) : java.util.Optional.empty())
                    .orElse(null));
            SealedSecrets secrets = config.secrets();
            http = new HttpApi(new HttpApi.Parts(callers, invocations, jobs, new FunctionRoutes(client, this::function, functions::snapshot, secrets,
                    () -> functions.refresh(Duration.ofSeconds(5))),
                    new AdminRoutes(client), new TriggerRoutes(client, () -> sources == null ? Map.of() : sources.runs()), new Webhooks(invocations, this::function, secrets, Clock.systemUTC()), this::readiness, metrics, new GatewayTraces(tracer)),
                    config.getString(GatewayConfig.HOST_CONFIG), config.getInt(GatewayConfig.PORT_CONFIG), maxBody + 1L).start();
            if (config.getBoolean(io.wharf.sources.SourcesConfig.ENABLED_CONFIG)) {
                sources = new Sources(config.sourcesSettings(), metrics).start();
            }
            state = State.RUNNING;
            log.info("Gateway listening on {} (request bodies up to {} bytes)", url(), maxBody);
            return this;
        } catch (RuntimeException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            state = State.FAILED;
            release();
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
    }

    /**
     * Also answers {@code /readyz} for {@code roles} that run in this process and serve no port of their own (as in
     * {@code wharf dev}): their checks join the gateway's, each named after its role.
     */
    public Gateway alsoReady(Role... roles) {
        companions = List.of(roles);
        return this;
    }

    /** Running, and caught up with the functions, keys and job states it answers from (and what {@link #alsoReady} adds). */
    @Override
    public List<Check> readiness() {
        State now = state;
        boolean caughtUp = now == State.RUNNING && functions.isCaughtUp() && keys.isCaughtUp() && states.isCaughtUp();
        List<Check> checks = new java.util.ArrayList<>(List.of(new Check("running", now == State.RUNNING, "the gateway is " + now),
                new Check("views", caughtUp, caughtUp ? "functions, keys and job states read" : "reading functions, keys and job states")));
        List<Role> others = new java.util.ArrayList<>(companions);
        if (sources != null) {
            others.add(sources);
        }
        for (Role role : others) {
            String name = role.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
            role.readiness().forEach(c -> checks.add(new Check(name + " " + c.name(), c.ok(), c.detail())));
        }
        return checks;
    }

    /** The function, read again to the topic's end when not known yet: one deployed a moment ago is found. */
    private FunctionSpec function(String name) {
        return functions.get(name).or(() -> functions.refresh(Duration.ofSeconds(5)) ? functions.get(name) : java.util.Optional.empty())
                .orElse(null);
    }

    /** How large a record wharf.events takes: its max.message.bytes. */
    private int eventsRecordLimit() {
        try (Admin admin = client.admin()) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, Topics.EVENTS);
            Config described = admin.describeConfigs(List.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic);
            return Integer.parseInt(described.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
        } catch (Exception e) {
            log.warn("Could not read {}'s max.message.bytes ({}); assuming Kafka's default", Topics.EVENTS, e.toString());
            return 1_048_588;
        }
    }

    /** Where the gateway listens, e.g. {@code http://127.0.0.1:8080}. */
    public String url() {
        return "http://" + config.getString(GatewayConfig.HOST_CONFIG) + ":" + http.port();
    }

    public int port() {
        return http.port();
    }

    /** Every route it serves. */
    public List<HttpApi.Route> routes() {
        return http.routes();
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public boolean awaitStop(Duration timeout) {
        try {
            return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public synchronized void close() {
        if (state.ended()) {
            return;
        }
        state = State.STOPPING;
        release();
        state = State.STOPPED;
    }

    private void release() {
        if (http != null) {
            http.stop();
        }
        for (AutoCloseable part : new AutoCloseable[] {sources, callbacks, states, keys, functions, client}) {
            if (part != null) {
                try {
                    part.close();
                } catch (Exception e) {
                    log.warn("Closing the gateway: {}", e.toString());
                }
            }
        }
        if (ownMetrics) {
            metrics.close();
        }
        stopped.countDown();
    }
}
