package io.wharf.testkit;

import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.SchemaRegistryProcess;

/**
 * One broker and one schema registry per JVM, started on first use and stopped when the JVM exits
 * (Testcontainers' singleton-container pattern). Tests share them and keep apart by using their own
 * topics, functions and consumer groups.
 */
public final class SharedServices {
    private static EmbeddedKafka kafka;
    private static SchemaRegistryProcess registry;

    private SharedServices() {
    }

    public static synchronized EmbeddedKafka kafka() {
        if (kafka == null) {
            kafka = EmbeddedKafka.start();
            EmbeddedKafka started = kafka;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "wharf-kafka-stopper"));
        }
        return kafka;
    }

    public static synchronized SchemaRegistryProcess registry() {
        if (registry == null) {
            registry = SchemaRegistryProcess.start();
            SchemaRegistryProcess started = registry;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "wharf-registry-closer"));
        }
        return registry;
    }
}
