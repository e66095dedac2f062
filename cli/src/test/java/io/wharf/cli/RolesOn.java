package io.wharf.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.dispatcher.Dispatcher;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.embedded.TempDirs;
import io.wharf.testkit.SharedServices;
import io.wharf.worker.Worker;
import io.wharf.worker.WorkerConfig;

/**
 * The roles {@code wharf dev} starts (a dispatcher, a worker with 2 slots, a client) on a broker a test made itself
 * (one with stock limits, one it stops), against the shared registry; closed in the reverse order.
 */
final class RolesOn implements AutoCloseable {
    final Dispatcher dispatcher;
    final Worker worker;
    final WharfClient client;
    private final Path state;

    private RolesOn(Dispatcher dispatcher, Worker worker, WharfClient client, Path state) {
        this.dispatcher = dispatcher;
        this.worker = worker;
        this.client = client;
        this.state = state;
    }

    /** Starts them on {@code bootstrap}; {@code name} prefixes the dispatcher's application id and the worker's id. */
    static RolesOn start(String bootstrap, String name) throws IOException {
        return start(bootstrap, name, Map.of());
    }

    /** As {@link #start(String, String)}, the worker with {@code workerSettings} too. */
    static RolesOn start(String bootstrap, String name, Map<String, Object> workerSettings) throws IOException {
        String registry = SharedServices.registry().confluentUrl();
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        Path state = Files.createTempDirectory("wharf-" + name + "-state-");
        Dispatcher dispatcher = new Dispatcher(Map.of(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                DispatcherConfig.REGISTRY_URL_CONFIG, registry, DispatcherConfig.STATE_DIR_CONFIG, state.toString(),
                DispatcherConfig.APPLICATION_ID_CONFIG, name + "-" + suffix, DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, 10)).start();
        Map<String, Object> settings = new java.util.HashMap<>(workerSettings);
        settings.putAll(Map.of(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, WorkerConfig.REGISTRY_URL_CONFIG, registry,
                WorkerConfig.ID_CONFIG, name + "-" + suffix, WorkerConfig.SLOTS_CONFIG, 2));
        Worker worker = new Worker(settings).start();
        return new RolesOn(dispatcher, worker, new WharfClient(new Endpoints(bootstrap, registry)), state);
    }

    @Override
    public void close() {
        client.close();
        worker.close();
        dispatcher.close();
        TempDirs.delete(state);
    }
}
