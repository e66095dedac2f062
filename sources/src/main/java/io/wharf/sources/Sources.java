package io.wharf.sources;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.client.TopicView;
import io.wharf.client.WharfClient;
import io.wharf.ops.Metrics;
import io.wharf.ops.Role;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Trigger;
import io.wharf.rules.Triggers;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClients;
import io.wharf.sources.spi.TriggerClients;
import io.wharf.sources.spi.TriggerParts;
import io.wharf.sources.spi.TriggerRun;
import io.wharf.sources.database.DatabaseTrigger;
import io.wharf.sources.files.FileTrigger;
import io.wharf.sources.topic.TopicTrigger;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;

/**
 * The sources role: runs every trigger defined on {@code wharf.triggers}, starting, pausing, restarting and stopping
 * each as its definition changes. Every instance runs every trigger; a topic trigger's partitions spread over the
 * instances through its consumer group. A trigger that fails (its topic not there yet, an ACL missing) is started
 * again every {@link #RETRY}, and says why meanwhile.
 */
public final class Sources implements Role {
    private static final Logger log = LoggerFactory.getLogger(Sources.class);
    static final Duration RETRY = Duration.ofSeconds(30);

    private final SourcesConfig config;
    private final SourcesMeters meters;
    private final Metrics ownMetrics;
    private final Map<String, TriggerRun> runs = new ConcurrentHashMap<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final ScheduledExecutorService supervisor = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("wharf-sources").unstarted(r));
    private volatile State state = State.CREATED;
    private WharfClient client;
    private TopicView<Trigger> triggers;
    private TopicView<FunctionSpec> functions;
    private TriggerParts parts;

    /** @throws org.apache.kafka.common.config.ConfigException naming a bad setting */
    public Sources(Map<?, ?> settings) {
        this(settings, null);
    }

    /** Records its meters into {@code metrics}; null for a set of its own. */
    public Sources(Map<?, ?> settings, Metrics metrics) {
        this.config = new SourcesConfig(settings);
        this.ownMetrics = metrics == null ? new Metrics() : null;
        this.meters = new SourcesMeters((metrics == null ? ownMetrics : metrics).registry());
    }

    @Override
    public synchronized Sources start() {
        if (state != State.CREATED) {
            throw new IllegalStateException("The sources role starts once");
        }
        state = State.STARTING;
        try {
            client = new WharfClient(config.endpoints(), config.clientSettings());
            TopicLimits limits;
            try (Admin admin = client.admin()) {
                Topics.ensure(admin, List.of(Topics.triggersTopic((short) -1)));
                limits = TopicLimits.read(admin, List.of(Topics.EVENTS, Topics.DLQ), Duration.ofSeconds(30));
            }
            // Events are sealed to their function's payload key, as this instance knows the function.
            functions = client.view(Topics.FUNCTIONS, FunctionSpec.class, (name, spec) -> { });
            functions.awaitCaughtUp(Duration.ofSeconds(60));
            SchemaRegistryClient registry = SchemaRegistryClients.forSettings(WharfClient.registrySettings(config.endpoints().registry(),
                    config.clientSettings()));
            parts = new TriggerParts(new TriggerClients(config.kafka(), config.endpoints().bootstrap(), config.instanceId()), registry,
                    limits.valueBudget(Topics.EVENTS), limits.valueBudget(Topics.DLQ), Clock.systemUTC(), new TriggerParts.Outcomes() {
                        @Override
                        public void committed(String trigger, int records, int events, int deadLettered) {
                            meters.records(trigger, records, events, deadLettered);
                        }

                        @Override
                        public void aborted(String trigger) {
                            meters.aborted(trigger);
                        }
                    }, this::function, config.secrets());
            triggers = client.view(Topics.TRIGGERS, Trigger.class, this::changed);
            supervisor.scheduleWithFixedDelay(this::restartFailed, RETRY.toMillis(), RETRY.toMillis(), TimeUnit.MILLISECONDS);
            state = State.RUNNING;
            log.info("Sources started");
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

    /** The function as this instance knows it; one deployed a moment ago is found by reading the topic to its end once more. */
    private FunctionSpec function(String name) {
        return functions.get(name).or(() -> functions.refresh(Duration.ofSeconds(5)) ? functions.get(name) : java.util.Optional.empty())
                .orElse(null);
    }

    /** The triggers as this instance runs them, by name. */
    public Map<String, TriggerRun> runs() {
        return Map.copyOf(runs);
    }

    /** A trigger's definition changed (null: deleted): from the view's thread, one change at a time. */
    private synchronized void changed(String name, Trigger trigger) {
        if (state.ended()) {
            return;
        }
        TriggerRun run = runs.get(name);
        if (trigger != null && run != null && sameSource(run.trigger(), trigger)) {
            run.pause(trigger.getPaused());
            return;
        }
        if (run != null) {
            stop(name, run);
            if (trigger == null || !trigger.getCreatedAt().equals(run.trigger().getCreatedAt())) {
                run.deleted();
            }
        }
        if (trigger != null) {
            try {
                Triggers.validate(trigger);
            } catch (IllegalArgumentException e) {
                log.error("Trigger {} is not run: {}", name, e.getMessage());
                return;
            }
            runs.put(name, begin(trigger));
        }
    }

    private TriggerRun begin(Trigger trigger) {
        TriggerRun run = (trigger.getDatabase() != null ? new DatabaseTrigger(trigger, parts)
                : trigger.getFiles() != null ? new FileTrigger(trigger, parts, client, config.fileRoots()) : new TopicTrigger(trigger, parts)).start();
        meters.lag(trigger.getName(), run, TriggerRun::lag);
        return run;
    }

    private void stop(String name, TriggerRun run) {
        runs.remove(name, run);
        meters.forget(name);
        run.close();
    }

    /** Whether only the paused flag (or nothing) differs, which a running trigger takes in place. */
    private static boolean sameSource(Trigger running, Trigger next) {
        return Objects.equals(running.getFunction(), next.getFunction()) && Objects.equals(running.getTenant(), next.getTenant())
                && Objects.equals(running.getCreatedAt(), next.getCreatedAt()) && Objects.equals(running.getTopic(), next.getTopic())
                && Objects.equals(running.getDatabase(), next.getDatabase()) && Objects.equals(running.getFiles(), next.getFiles());
    }

    private synchronized void restartFailed() {
        runs.forEach((name, run) -> {
            if (run.state() == TriggerRun.State.FAILED && !state.ended()) {
                log.info("Trigger {} starts again after: {}", name, run.problem());
                stop(name, run);
                runs.put(name, begin(run.trigger()));
            }
        });
    }

    /** Running with the triggers read; a failed trigger is told in the detail, not as the role's unreadiness. */
    @Override
    public List<Check> readiness() {
        boolean caughtUp = state == State.RUNNING && triggers.isCaughtUp();
        List<String> failed = runs.values().stream().filter(r -> r.state() == TriggerRun.State.FAILED)
                .map(r -> r.trigger().getName() + ": " + r.problem()).toList();
        return List.of(new Check("running", state == State.RUNNING, "the sources role is " + state),
                new Check("triggers", caughtUp, (caughtUp ? runs.size() + " triggers" : "reading the triggers")
                        + (failed.isEmpty() ? "" : "; failing: " + String.join("; ", failed))));
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
        supervisor.shutdownNow();
        if (triggers != null) {
            triggers.close();
        }
        runs.forEach(this::stop);
        if (functions != null) {
            functions.close();
        }
        if (client != null) {
            client.close();
        }
        if (ownMetrics != null) {
            ownMetrics.close();
        }
        stopped.countDown();
        log.info("Sources stopped");
    }
}
