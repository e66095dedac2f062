package io.wharf.cli;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;

import io.wharf.client.WharfClient;
import io.wharf.topics.RoleAcls;
import io.wharf.topics.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code wharf acls ROLE --principal User:NAME}: the least Kafka ACLs a role needs, printed, or applied with {@code --apply}. */
@Command(name = "acls", description = "Print (or --apply) the Kafka ACLs a principal needs in a role: worker, dispatcher, operator, invoker or gateway.")
final class AclsCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "worker, dispatcher, operator, invoker or gateway.")
    String role;
    @Option(names = "--principal", required = true, description = "The Kafka principal, e.g. User:worker.")
    String principal;
    @Option(names = "--pool", defaultValue = Topics.DEFAULT_POOL, description = "The worker's pool (default ${DEFAULT-VALUE}).")
    String pool;
    @Option(names = "--application-id", defaultValue = "wharf-dispatcher", description = "The dispatcher's application id (default ${DEFAULT-VALUE}).")
    String applicationId;
    @Option(names = "--apply", description = "Create the ACLs on the cluster (needs a principal allowed to alter ACLs).")
    boolean apply;
    @CommandLine.Mixin
    Wharf.Connection connection;

    @Override
    public Integer call() throws InterruptedException {
        List<AclBinding> bindings = RoleAcls.of(RoleAcls.Role.parse(role), principal, pool, applicationId);
        System.out.printf("%-10s %-8s %-16s %-24s %s%n", "PRINCIPAL", "PATTERN", "RESOURCE", "NAME", "OPERATION");
        bindings.forEach(binding -> System.out.println(RoleAcls.describe(binding)));
        if (apply) {
            try (WharfClient client = connection.client(); Admin admin = client.admin()) {
                admin.createAcls(bindings).all().get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("Could not create the ACLs: " + e.getCause().getMessage(), e.getCause());
            }
            System.out.println("Applied " + bindings.size() + " ACLs for " + principal + ".");
        }
        return 0;
    }
}
