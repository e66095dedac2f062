package io.wharf.embedded;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * One node of a {@link KafkaCluster}, as its own process (so that a test can SIGKILL it as a host failure would):
 * {@code dataDir id brokerPort controllerPort voters clusterId replication}. It runs until it is killed; SIGTERM
 * stops it cleanly.
 */
public final class KafkaClusterNode {
    private KafkaClusterNode() {
    }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedKafka.Node node = new EmbeddedKafka.Node(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                args[4], args[5], Integer.parseInt(args[6]));
        EmbeddedKafka kafka = EmbeddedKafka.startNode(Path.of(args[0]), node);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            kafka.stop();
            stopped.countDown();
        }, "kafka-node-stop"));
        stopped.await();
    }
}
