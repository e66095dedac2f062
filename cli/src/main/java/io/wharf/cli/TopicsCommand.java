package io.wharf.cli;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

import io.wharf.client.WharfClient;
import io.wharf.topics.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wharf topics create|describe}: Wharf's topics on a cluster an operator runs (what {@code wharf dev} does for
 * itself), each with its cleanup policy and record limit. Creating is idempotent: topics that exist are left as they
 * are, and said so.
 */
@Command(name = "topics", description = "Create or describe Wharf's topics on a cluster.",
        subcommands = {TopicsCommand.Create.class, TopicsCommand.Describe.class})
final class TopicsCommand {

    /** How long {@code create} waits for enough brokers to register, where the cluster was started just before. */
    static final java.time.Duration BROKERS_PATIENCE = java.time.Duration.ofSeconds(60);

    /**
     * {@link Topics#ensure}, asked again while fewer brokers are registered than the replication factor: a broker
     * accepts connections before the controller has registered it, so a cluster started together with this command
     * (a compose stack, a Kubernetes job) refuses a replication factor of 3 for its first seconds.
     */
    static List<String> ensureOnceRegistered(Admin admin, List<NewTopic> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + BROKERS_PATIENCE.toNanos();
        while (true) {
            try {
                return Topics.ensure(admin, wanted);
            } catch (IllegalStateException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.InvalidReplicationFactorException) || System.nanoTime() > deadline) {
                    throw e;
                }
                System.err.println("waiting up to " + BROKERS_PATIENCE.toSeconds() + " s for the brokers to register: " + e.getCause().getMessage());
                Thread.sleep(1_000);
            }
        }
    }

    @Command(name = "create", description = "Create the core topics and one job topic per --pool; existing ones are left as they are.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--partitions", defaultValue = "12", description = "Partitions of the event, job and result topics (default ${DEFAULT-VALUE}): "
                + "the most dispatchers and workers per pool that can share the work.")
        int partitions;
        @Option(names = {"--replication-factor", "--replication"}, defaultValue = "-1",
                description = "Copies of each partition (default: the broker's default.replication.factor); 3 on a production cluster.")
        short replication;
        @Option(names = "--pool", defaultValue = Topics.DEFAULT_POOL, description = "A pool to make a job topic for; repeat for more (default ${DEFAULT-VALUE}).")
        List<String> pools;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() throws Exception {
            if (partitions < 1 || replication == 0 || replication < -1) {
                throw new IllegalArgumentException("--partitions must be at least 1 and --replication-factor at least 1 (or -1 for the broker's default)");
            }
            pools.forEach(Topics::jobs); // a bad pool name fails before anything is made
            List<NewTopic> wanted = Topics.core(partitions, replication, pools);
            try (WharfClient client = connection.client(); Admin admin = client.admin()) {
                List<String> created = ensureOnceRegistered(admin, wanted);
                Map<String, TopicDescription> now = admin.describeTopics(wanted.stream().map(NewTopic::name).toList()).allTopicNames().get();
                for (NewTopic topic : wanted) {
                    TopicDescription d = now.get(topic.name());
                    int rf = d.partitions().get(0).replicas().size();
                    System.out.printf("%-8s %-28s %3d partitions, replication factor %d%n", created.contains(topic.name()) ? "created" : "exists",
                            topic.name(), d.partitions().size(), rf);
                }
                mismatch(now).ifPresent(problem -> System.out.println("warning: " + problem));
            }
            return 0;
        }
    }

    @Command(name = "describe", description = "Each of Wharf's topics: partitions, replication, min.insync.replicas, record limit, cleanup; and what is missing.")
    static final class Describe implements Callable<Integer> {
        @Option(names = "--pool", description = "Pools whose job topics must exist (default: the ones found).")
        List<String> pools;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() throws Exception {
            try (WharfClient client = connection.client(); Admin admin = client.admin()) {
                List<String> names = admin.listTopics().names().get().stream().filter(n -> n.startsWith("wharf.")).sorted().toList();
                Map<String, TopicDescription> found = new TreeMap<>(admin.describeTopics(names).allTopicNames().get());
                Map<ConfigResource, Config> configs = admin.describeConfigs(names.stream()
                        .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList()).all().get();
                System.out.printf("%-28s %10s %11s %12s %17s %s%n", "TOPIC", "PARTITIONS", "REPLICATION", "MIN.INSYNC", "MAX.MESSAGE.BYTES", "CLEANUP");
                found.forEach((name, d) -> {
                    Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name));
                    System.out.printf("%-28s %10d %11d %12s %17s %s%n", name, d.partitions().size(), d.partitions().get(0).replicas().size(),
                            c.get(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG).value(), c.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value(),
                            c.get(TopicConfig.CLEANUP_POLICY_CONFIG).value());
                });
                List<String> expected = Topics.core(1, (short) -1, pools == null ? List.of() : pools).stream().map(NewTopic::name).toList();
                List<String> missing = expected.stream().filter(n -> !found.containsKey(n)).toList();
                if (!missing.isEmpty()) {
                    System.out.println("missing: " + String.join(", ", missing) + " (wharf topics create makes them)");
                }
                mismatch(found).ifPresent(problem -> System.out.println("warning: " + problem));
                return missing.isEmpty() ? 0 : 1;
            }
        }
    }

    /** The dispatcher co-partitions functions with events: different counts are a set-up it refuses at start. */
    private static java.util.Optional<String> mismatch(Map<String, TopicDescription> topics) {
        TopicDescription functions = topics.get(Topics.FUNCTIONS);
        TopicDescription events = topics.get(Topics.EVENTS);
        if (functions == null || events == null || functions.partitions().size() == events.partitions().size()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(Topics.FUNCTIONS + " has " + functions.partitions().size() + " partitions and " + Topics.EVENTS + " "
                + events.partitions().size() + ": they must be equal, or the dispatcher will not start");
    }

    private TopicsCommand() {
    }
}
