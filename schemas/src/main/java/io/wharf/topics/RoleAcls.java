package io.wharf.topics;

import static org.apache.kafka.common.acl.AclOperation.CREATE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE;
import static org.apache.kafka.common.acl.AclOperation.DESCRIBE_CONFIGS;
import static org.apache.kafka.common.acl.AclOperation.READ;
import static org.apache.kafka.common.acl.AclOperation.WRITE;
import static org.apache.kafka.common.acl.AclOperation.ALL;
import static org.apache.kafka.common.resource.PatternType.LITERAL;
import static org.apache.kafka.common.resource.PatternType.PREFIXED;
import static org.apache.kafka.common.resource.ResourceType.GROUP;
import static org.apache.kafka.common.resource.ResourceType.TOPIC;
import static org.apache.kafka.common.resource.ResourceType.TRANSACTIONAL_ID;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The least Kafka ACLs each Wharf role needs on a cluster with an authorizer; {@code wharf acls} prints or applies
 * them, and {@code docs/security.md} lists them. Only an operator writes {@code wharf.functions}, the tenants, the
 * schedules and the pools' policies; an application that only invokes functions writes events and reads results.
 */
public final class RoleAcls {
    /** Who is granted what; each a Kafka principal such as {@code User:worker}. */
    public enum Role {
        /** Runs jobs of one pool: reads its job topic, writes results, attempts, logs and dead letters in transactions. */
        WORKER,
        /** The Kafka Streams application that turns events into jobs: its own internal topics, groups and transactions. */
        DISPATCHER,
        /** Deploys functions, sets tenants and schedules, creates pools' job topics; can also invoke. */
        OPERATOR,
        /** Invokes functions and reads their results and logs; can cancel jobs. */
        INVOKER,
        /** The HTTP gateway: an operator's rights (its admin keys manage functions) and the job states it answers from. */
        GATEWAY;

        public static Role parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("No role '" + name + "': worker, dispatcher, operator, invoker or gateway");
            }
        }
    }

    public static final String WORKER_TRANSACTIONS_PREFIX = "wharf-worker-";
    /**
     * The consumer groups and transactional ids of triggers begin with it (the sources role, which the gateway's
     * process hosts); the topics triggers read are the user's, granted READ apart.
     */
    public static final String TRIGGER_PREFIX = "wharf-trigger-";
    /** The consumer groups of gateways begin with it. */
    public static final String GATEWAY_GROUP_PREFIX = "wharf-gateway-";

    private RoleAcls() {
    }

    /**
     * The bindings {@code principal} needs in {@code role}; {@code pool} names the worker's pool, {@code applicationId}
     * the dispatcher's (its internal topics, group and transactional ids all start with it).
     */
    public static List<AclBinding> of(Role role, String principal, String pool, String applicationId) {
        Grants grants = new Grants(principal);
        switch (role) {
            case WORKER -> {
                String jobs = Topics.jobs(pool);
                grants.allow(TOPIC, jobs, LITERAL, READ, DESCRIBE_CONFIGS);
                grants.allow(GROUP, "wharf-workers-" + pool, LITERAL, READ);
                for (String topic : List.of(Topics.RESULTS, Topics.ATTEMPTS, Topics.LOGS, Topics.DLQ)) {
                    grants.allow(TOPIC, topic, LITERAL, WRITE, DESCRIBE_CONFIGS);
                }
                grants.allow(TOPIC, Topics.STATUS, LITERAL, WRITE);
                grants.allow(TOPIC, Topics.CONTROL, LITERAL, READ);
                grants.allow(TOPIC, Topics.POOLS, LITERAL, READ);
                grants.allow(TRANSACTIONAL_ID, WORKER_TRANSACTIONS_PREFIX, PREFIXED, WRITE);
            }
            case DISPATCHER -> {
                for (String topic : List.of(Topics.EVENTS, Topics.FUNCTIONS, Topics.SCHEDULES, Topics.TENANTS, Topics.ATTEMPTS)) {
                    grants.allow(TOPIC, topic, LITERAL, READ, DESCRIBE_CONFIGS);
                }
                // Chains, retries and fan-out write events back; results and dead letters of refused or expired work.
                for (String topic : List.of(Topics.EVENTS, Topics.RESULTS, Topics.DLQ, Topics.STATUS)) {
                    grants.allow(TOPIC, topic, LITERAL, WRITE);
                }
                grants.allow(TOPIC, Topics.DLQ, LITERAL, DESCRIBE_CONFIGS);
                grants.allow(TOPIC, Topics.RESULTS, LITERAL, DESCRIBE_CONFIGS);
                grants.allow(TOPIC, Topics.TENANT_ADMISSION, LITERAL, READ, WRITE, DESCRIBE_CONFIGS);
                grants.allow(TOPIC, Topics.JOBS_PREFIX, PREFIXED, WRITE, DESCRIBE, DESCRIBE_CONFIGS);
                // Kafka Streams' own: changelog and repartition topics, the group, the transactions.
                grants.allow(TOPIC, applicationId, PREFIXED, ALL);
                grants.allow(GROUP, applicationId, PREFIXED, READ);
                grants.allow(TRANSACTIONAL_ID, applicationId, PREFIXED, WRITE);
            }
            case OPERATOR -> operator(grants);
            case GATEWAY -> {
                // Its admin keys manage functions, schedules and tenants; API keys and pool policies stay the operators'.
                for (String topic : List.of(Topics.FUNCTIONS, Topics.SCHEDULES, Topics.TENANTS)) {
                    grants.allow(TOPIC, topic, LITERAL, READ, WRITE);
                }
                for (String topic : List.of(Topics.POOLS, Topics.API_KEYS, Topics.STATUS, Topics.DLQ)) {
                    grants.allow(TOPIC, topic, LITERAL, READ);
                }
                grants.allow(TOPIC, Topics.STATUS, LITERAL, WRITE); // an async call's job is QUEUED before its 202
                grants.allow(TOPIC, Topics.EVENTS, LITERAL, DESCRIBE_CONFIGS); // the largest body it can take
                grants.allow(TOPIC, Topics.JOBS_PREFIX, PREFIXED, CREATE, DESCRIBE);
                grants.allow(GROUP, "wharf-workers-", PREFIXED, DESCRIBE);
                grants.allow(GROUP, GATEWAY_GROUP_PREFIX, PREFIXED, READ); // callbacks, shared by its instances
                grants.allow(TOPIC, Topics.TRIGGERS, LITERAL, READ, WRITE);
                // The triggers it runs: their groups, their transactions, and dead letters for records they cannot take.
                grants.allow(GROUP, TRIGGER_PREFIX, PREFIXED, READ, DESCRIBE);
                grants.allow(TRANSACTIONAL_ID, TRIGGER_PREFIX, PREFIXED, WRITE, DESCRIBE);
                grants.allow(TOPIC, Topics.DLQ, LITERAL, WRITE);
                grants.allow(TOPIC, Topics.TRIGGER_OFFSETS, LITERAL, CREATE, READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS); // database triggers' positions
                invoker(grants);
            }
            case INVOKER -> invoker(grants);
        }
        return grants.bindings;
    }

    private static void operator(Grants grants) {
        for (String topic : List.of(Topics.FUNCTIONS, Topics.SCHEDULES, Topics.TENANTS, Topics.POOLS, Topics.API_KEYS, Topics.TRIGGERS)) {
            grants.allow(TOPIC, topic, LITERAL, READ, WRITE);
        }
        grants.allow(GROUP, TRIGGER_PREFIX, PREFIXED, DESCRIBE); // a trigger's lag
        grants.allow(TOPIC, Topics.JOBS_PREFIX, PREFIXED, CREATE, DESCRIBE);
        grants.allow(GROUP, "wharf-workers-", PREFIXED, DESCRIBE); // does a worker serve the pool deployed to?
        grants.allow(TOPIC, Topics.DLQ, LITERAL, READ);
        invoker(grants);
    }

    private static void invoker(Grants grants) {
        grants.allow(TOPIC, Topics.EVENTS, LITERAL, WRITE, DESCRIBE);
        grants.allow(TOPIC, Topics.CONTROL, LITERAL, WRITE);
        grants.allow(TOPIC, Topics.RESULTS, LITERAL, READ);
        grants.allow(TOPIC, Topics.LOGS, LITERAL, READ);
    }

    /** One binding per line, in the words of {@code kafka-acls.sh}. */
    public static String describe(AclBinding binding) {
        ResourcePattern pattern = binding.pattern();
        return String.format("%-10s %-8s %-16s %-24s %s", binding.entry().principal(), pattern.patternType() == PREFIXED ? "prefixed" : "literal",
                pattern.resourceType().name().toLowerCase(Locale.ROOT), pattern.name(), binding.entry().operation().name().toLowerCase(Locale.ROOT));
    }

    private static final class Grants {
        final String principal;
        final List<AclBinding> bindings = new ArrayList<>();

        Grants(String principal) {
            if (!principal.contains(":")) {
                throw new IllegalArgumentException("A principal reads Type:name, e.g. User:worker; got '" + principal + "'");
            }
            this.principal = principal;
        }

        void allow(ResourceType type, String name, PatternType pattern, AclOperation... operations) {
            for (AclOperation operation : operations) {
                bindings.add(new AclBinding(new ResourcePattern(type, name, pattern),
                        new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW)));
            }
        }
    }
}
