package io.wharf.worker;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigException;

import io.wharf.ops.RoleMain;
import io.wharf.ops.Telemetry;
import io.wharf.topics.Topics;

/**
 * Runs one worker until the process is stopped: {@code WorkerMain key=value ...} with the keys of
 * {@link WorkerConfig}. SIGTERM drains it; SIGKILL is a crash, after which its jobs run elsewhere. Exit codes as
 * {@link RoleMain} says: 1 when the worker fails (fenced, its brokers lost for good, its loop died), 2 on a bad
 * setting.
 */
public final class WorkerMain {
    private WorkerMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("worker", args, WorkerConfig::configDef, (settings, metrics, traces) -> new Worker(withStableId(settings),
                new Telemetry(metrics.registry(), traces)));
    }

    /**
     * A worker run as a process keeps its id across restarts unless told otherwise: its host's name and pool. The id
     * names its transactions and labels its containers, so a restarted worker fences its previous run and removes the
     * containers that run left behind. (Workers made in a JVM, as {@code wharf dev} and the tests do, get random ids.)
     */
    static Map<String, String> withStableId(Map<String, String> settings) {
        if (settings.containsKey(WorkerConfig.ID_CONFIG)) {
            return settings;
        }
        Map<String, String> withId = new HashMap<>(settings);
        withId.put(WorkerConfig.ID_CONFIG, hostName() + "-" + settings.getOrDefault(WorkerConfig.POOL_CONFIG, Topics.DEFAULT_POOL));
        return withId;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "-");
        } catch (UnknownHostException e) {
            throw new ConfigException(WorkerConfig.ID_CONFIG, "", "This host has no name to make a worker id of (" + e.getMessage() + "): set one");
        }
    }
}
