package io.wharf.client;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import io.wharf.records.Trigger;
import io.wharf.rules.Triggers.KeyFrom;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.RoleAcls;
import io.wharf.topics.Topics;

/**
 * Triggers on {@code wharf.triggers}: made, paused, resumed and deleted here, run by the sources role (a gateway's
 * process, or one of its own). A trigger's lag is read from the cluster (its group's committed offsets against the
 * topic's end), so it is the same whichever instance runs which partition.
 */
public final class Triggers {
    private final WharfClient client;
    private final SchemaRegistryClient registry;
    private final String bootstrap;

    Triggers(WharfClient client, SchemaRegistryClient registry, String bootstrap) {
        this.client = client;
        this.registry = registry;
        this.bootstrap = bootstrap;
    }

    /**
     * Makes a trigger, checked first: its settings, its function deployed, its topic there.
     *
     * @throws IllegalArgumentException naming what is wrong: a setting, a function or topic that is not there
     * @throws IllegalStateException    when a trigger of that name exists (delete it first)
     */
    public Trigger create(Trigger trigger) {
        io.wharf.rules.Triggers.validate(trigger);
        Trigger existing = all().get(trigger.getName());
        if (existing != null) {
            throw new IllegalStateException("Trigger " + trigger.getName() + " exists (to function " + existing.getFunction() + "): delete it first (wharf trigger delete " + trigger.getName() + "), or choose another name");
        }
        if (!client.functions().containsKey(trigger.getFunction())) {
            throw new IllegalArgumentException("No function " + trigger.getFunction() + " is deployed: deploy it first (wharf deploy), or check --function");
        }
        try (Admin admin = client.admin()) {
            Topics.ensure(admin, List.of(Topics.triggersTopic((short) -1)));
            if (trigger.getTopic() != null) {
                describe(admin, trigger.getTopic().getTopic());
            }
        }
        write(trigger);
        return trigger;
    }

    /** Pauses (true) or resumes a trigger: it keeps its place in the topic meanwhile. */
    public Trigger pause(String name, boolean pause) {
        Trigger trigger = get(name);
        trigger.setPaused(pause);
        trigger.setUpdatedAt(Instant.now());
        write(trigger);
        return trigger;
    }

    /** Deletes a trigger; one made again under its name starts afresh, as its settings say. */
    public void delete(String name) {
        get(name);
        client.send(Topics.TRIGGERS, name, null);
    }

    /** The trigger of that name; throws naming the ones there are when there is none. */
    public Trigger get(String name) {
        Map<String, Trigger> all = all();
        Trigger trigger = all.get(name);
        if (trigger == null) {
            throw new java.util.NoSuchElementException("No trigger " + name + (all.isEmpty() ? "; there are none" : "; there are: " + String.join(", ", all.keySet())));
        }
        return trigger;
    }

    /** Every trigger, by name. */
    public Map<String, Trigger> all() {
        return client.current(Topics.TRIGGERS, Trigger.class);
    }

    /**
     * Records of the trigger's topic it has not taken yet, over all partitions; empty when the cluster could not say, or
     * for a database trigger (the database counts what its slot holds).
     */
    public OptionalLong lag(Trigger trigger) {
        if (trigger.getTopic() == null) {
            return OptionalLong.empty();
        }
        String topic = trigger.getTopic().getTopic();
        try (Admin admin = client.admin()) {
            TopicDescription description = describe(admin, topic);
            List<TopicPartition> partitions = description.partitions().stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group(trigger)).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = offsets(admin, partitions, OffsetSpec.latest());
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> begins = offsets(admin, partitions, OffsetSpec.earliest());
            long lag = 0;
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata at = committed.get(tp);
                long from = at != null ? at.offset() : trigger.getTopic().getStartAtEnd() ? ends.get(tp).offset() : begins.get(tp).offset();
                lag += Math.max(0, ends.get(tp).offset() - from);
            }
            return OptionalLong.of(lag);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalLong.empty();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** The consumer group a trigger reads in (as the sources role names it). */
    public static String group(Trigger trigger) {
        return RoleAcls.TRIGGER_PREFIX + io.wharf.rules.Triggers.instance(trigger);
    }

    /** A new trigger's definition from the settings people give ({@code wharf trigger create}, {@code POST /v1/triggers}). */
    public static Trigger topicTrigger(String name, String function, String tenant, String topic, String format, String start, int batch,
                                       java.time.Duration linger, String keyFrom) {
        KeyFrom.parse(keyFrom);
        io.wharf.records.RecordFormat recordFormat;
        try {
            recordFormat = io.wharf.records.RecordFormat.valueOf(format.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--format '" + format + "' is not one of: raw, json, avro");
        }
        if (!start.equals("earliest") && !start.equals("latest")) {
            throw new IllegalArgumentException("--start '" + start + "' is not one of: earliest, latest");
        }
        Instant now = Instant.now();
        Trigger trigger = Trigger.newBuilder().setName(name).setFunction(function).setTenant(tenant).setCreatedAt(now).setUpdatedAt(now)
                .setTopic(io.wharf.records.TopicSource.newBuilder().setTopic(topic).setFormat(recordFormat).setStartAtEnd(start.equals("latest"))
                        .setBatchSize(batch).setLingerMillis(linger.toMillis()).setKeyFrom(keyFrom).build())
                .build();
        io.wharf.rules.Triggers.validate(trigger);
        return trigger;
    }

    /**
     * A new database trigger: each committed change of {@code tables} ({@code schema.table}) in PostgreSQL database
     * {@code database} becomes an event. {@code password} is sealed with {@code keys} (those of the sources role) when
     * given; without keys it is stored as it is, readable by whoever reads {@code wharf.triggers}.
     */
    public static Trigger databaseTrigger(String name, String function, String tenant, String host, int port, String database, String user,
                                          String password, List<String> tables, boolean snapshot, io.wharf.secrets.SealedSecrets keys) {
        Instant now = Instant.now();
        Trigger trigger = Trigger.newBuilder().setName(name).setFunction(function).setTenant(tenant).setCreatedAt(now).setUpdatedAt(now)
                .setDatabase(io.wharf.records.DatabaseSource.newBuilder().setHost(host).setPort(port).setDatabase(database).setUser(user)
                        .setPassword("").setTables(tables).setSnapshot(snapshot).build())
                .build();
        io.wharf.rules.Triggers.validate(trigger);
        trigger.getDatabase().setPassword(keys == null || password.isEmpty() ? password
                : keys.seal(password, io.wharf.rules.Triggers.databasePassword(trigger)));
        return trigger;
    }

    /**
     * A new file trigger: each new file of {@code directory} (on the sources role's host, under its
     * {@code wharf.sources.files.roots}) whose name matches {@code pattern} becomes an event once its size and time stayed
     * the same for {@code settle}.
     */
    public static Trigger fileTrigger(String name, String function, String tenant, String directory, String pattern, java.time.Duration settle) {
        Instant now = Instant.now();
        Trigger trigger = Trigger.newBuilder().setName(name).setFunction(function).setTenant(tenant).setCreatedAt(now).setUpdatedAt(now)
                .setFiles(io.wharf.records.FileSource.newBuilder().setDirectory(directory).setPattern(pattern).setSettleMillis(settle.toMillis()).build())
                .build();
        io.wharf.rules.Triggers.validate(trigger);
        return trigger;
    }

    private void write(Trigger trigger) {
        client.send(Topics.TRIGGERS, trigger.getName(), new AvroSerializer<Trigger>(registry).serialize(Topics.TRIGGERS, trigger));
    }

    private TopicDescription describe(Admin admin, String topic) {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalArgumentException("Topic " + topic + " does not exist on " + bootstrap + ": create it first, or check --topic");
            }
            throw new IllegalStateException("Could not describe topic " + topic + " on " + bootstrap + ": " + e.getCause().getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("The cluster at " + bootstrap + " did not describe topic " + topic + " within 30 s", e);
        }
    }

    private static Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> offsets(Admin admin, List<TopicPartition> partitions, OffsetSpec spec)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
        partitions.forEach(tp -> ask.put(tp, spec));
        return admin.listOffsets(ask).all().get(30, TimeUnit.SECONDS);
    }
}
