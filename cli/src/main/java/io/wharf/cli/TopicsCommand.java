package io.wharf.cli;

import java.util.List;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.admin.Admin;

import io.wharf.client.WharfClient;
import io.wharf.topics.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code wharf topics create}: Wharf's topics on a cluster an operator runs (what {@code wharf dev} does for itself),
 * each with its cleanup policy and record limit; topics that exist are left as they are.
 */
@Command(name = "topics", description = "Create Wharf's topics on a cluster (existing ones are left as they are).",
        subcommands = TopicsCommand.Create.class)
final class TopicsCommand {

    @Command(name = "create", description = "Create the core topics and one job topic per --pool.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--partitions", defaultValue = "12", description = "Partitions of the event, job and result topics (default ${DEFAULT-VALUE}): "
                + "the most dispatchers and workers per pool that can share the work.")
        int partitions;
        @Option(names = "--replication", defaultValue = "-1", description = "Replication factor (default: the broker's).")
        short replication;
        @Option(names = "--pool", defaultValue = Topics.DEFAULT_POOL, description = "A pool to make a job topic for; repeat for more (default ${DEFAULT-VALUE}).")
        List<String> pools;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client(); Admin admin = client.admin()) {
                pools.forEach(Topics::jobs); // a bad pool name fails before anything is made
                Topics.ensure(admin, Topics.core(partitions, replication, pools));
            }
            System.out.println("Wharf's topics exist (" + partitions + " partitions, pools " + String.join(", ", pools) + ").");
            return 0;
        }
    }
}
