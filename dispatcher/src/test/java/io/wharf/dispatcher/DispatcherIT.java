package io.wharf.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.RateLimit;
import io.wharf.records.Schedule;
import io.wharf.records.TenantSpec;
import io.wharf.ops.Role;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.HttpSchemaRegistryClient;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.testkit.SharedServices;
import io.wharf.testkit.TcpSwitch;
import io.wharf.embedded.TempDirs;
import io.wharf.topics.Topics;

/**
 * The dispatcher on the real broker and registry: limits stay exact with two instances and across a
 * rebalance, and a SIGKILLed instance loses no held job, timer or schedule and fires no schedule twice.
 */
class DispatcherIT {
    private static final String APP_ID = "wharf-dispatcher-it";
    private static String bootstrap;
    private static String registryUrl;
    private static SchemaRegistryClient registry;
    private static KafkaProducer<String, byte[]> producer;
    private static final List<Path> stateDirs = new ArrayList<>();

    @BeforeAll
    static void start() {
        bootstrap = SharedServices.kafka().bootstrapServers();
        registryUrl = SharedServices.registry().confluentUrl();
        registry = new HttpSchemaRegistryClient(registryUrl);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            Topics.ensure(admin, Topics.core(4, (short) 1, List.of("it-rate", "it-crash")));
        }
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    static void stop() {
        producer.close();
        stateDirs.forEach(TempDirs::delete);
    }

    private static Map<String, Object> settings(String instance) {
        Path dir;
        try {
            dir = Files.createTempDirectory("wharf-dispatcher-it-" + instance);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        stateDirs.add(dir);
        Map<String, Object> settings = new HashMap<>();
        settings.put(DispatcherConfig.MANAGEMENT_PORT_CONFIG, 0); // several may run on this host
        settings.put(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        settings.put(DispatcherConfig.REGISTRY_URL_CONFIG, registryUrl);
        settings.put(DispatcherConfig.APPLICATION_ID_CONFIG, APP_ID);
        settings.put(DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, "50");
        settings.put(DispatcherConfig.SESSION_TIMEOUT_MS_CONFIG, "3000");
        settings.put(DispatcherConfig.STATE_DIR_CONFIG, dir.toString());
        return settings;
    }

    private static Dispatcher startDispatcher(String instance) {
        Dispatcher dispatcher = new Dispatcher(settings(instance)).start();
        assertThat(dispatcher.awaitRunning(Duration.ofSeconds(60))).as("dispatcher %s running", instance).isTrue();
        return dispatcher;
    }

    private static Process startDispatcherProcess(String instance) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), DispatcherMain.class.getName()));
        settings(instance).forEach((k, v) -> command.add(k + "=" + v));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(new File(System.getProperty("java.io.tmpdir"), "wharf-dispatcher-it-" + instance + ".log")).start();
    }

    private static void deploy(FunctionSpec spec) throws Exception {
        producer.send(new ProducerRecord<>(Topics.FUNCTIONS, spec.getName(), new AvroSerializer<FunctionSpec>(registry).serialize(Topics.FUNCTIONS, spec))).get();
    }

    private static void send(String key, Event event) {
        producer.send(new ProducerRecord<>(Topics.EVENTS, key, new AvroSerializer<Event>(registry).serialize(Topics.EVENTS, event)));
    }

    private static Event event(String id, String function) {
        return Event.newBuilder().setId(id).setFunction(function).setPayload(ByteBuffer.wrap(id.getBytes())).setCreatedAt(Instant.now()).build();
    }

    /** A read_committed reader of one topic, collecting what matches in the background of each poll. */
    private static final class Reader implements AutoCloseable {
        private final KafkaConsumer<String, byte[]> consumer;
        final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        private final Predicate<ConsumerRecord<String, byte[]>> filter;

        Reader(String topic, Predicate<ConsumerRecord<String, byte[]>> filter) {
            Properties props = new Properties();
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(ConsumerConfig.GROUP_ID_CONFIG, "dispatcher-it-" + UUID.randomUUID());
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
            consumer.subscribe(List.of(topic));
            this.filter = filter;
        }

        int poll() {
            consumer.poll(Duration.ofMillis(100)).forEach(r -> {
                if (filter.test(r)) {
                    records.add(r);
                }
            });
            return records.size();
        }

        @Override
        public void close() {
            consumer.close();
        }
    }

    private static List<Job> jobs(Reader reader) {
        AvroDeserializer<Job> deserializer = new AvroDeserializer<>(registry, Job.class);
        return reader.records.stream().map(r -> deserializer.deserialize(r.topic(), r.value())).toList();
    }

    /** The most jobs dispatched within any window of {@code windowMillis}. */
    private static int busiestWindow(List<Long> times, long windowMillis) {
        List<Long> sorted = times.stream().sorted().toList();
        int most = 0;
        int start = 0;
        for (int end = 0; end < sorted.size(); end++) {
            while (sorted.get(end) - sorted.get(start) >= windowMillis) {
                start++;
            }
            most = Math.max(most, end - start + 1);
        }
        return most;
    }

    @Test
    void twoInstancesEnforceOneRateLimitExactlyAcrossARebalance() throws Exception {
        String function = "rate-" + UUID.randomUUID().toString().substring(0, 8);
        deploy(FunctionSpec.newBuilder().setName(function).setImage("unused").setPool("it-rate")
                .setRateLimit(new RateLimit(20.0, 5)).build());
        Dispatcher first = startDispatcher("rate-a");
        Dispatcher second = startDispatcher("rate-b");
        int total = 150;
        try (Reader reader = new Reader(Topics.jobs("it-rate"), r -> r.key() != null && r.key().startsWith(function))) {
            for (int i = 0; i < total; i++) {
                // Half arrive under other keys, on partitions the other instance owns: they are re-keyed, not counted there.
                send(i % 2 == 0 ? function : "elsewhere-" + i, event(function + "-" + i, function));
            }
            producer.flush();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ZERO).until(() -> reader.poll() >= 40);
            first.close(); // its tasks move to the other instance, with their token buckets and held jobs
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> reader.poll() >= total);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ZERO).until(() -> reader.poll() == total);

            List<Job> jobs = jobs(reader);
            assertThat(jobs).extracting(Job::getJobId).doesNotHaveDuplicates().hasSize(total);
            List<Long> times = jobs.stream().map(j -> j.getEnqueuedAt().toEpochMilli()).toList();
            // A bucket of burst 5 refilled at 20/s lets out at most 5 + 20 x T in any window T.
            assertThat(busiestWindow(times, 1000)).isLessThanOrEqualTo(25);
            assertThat(busiestWindow(times, 3000)).isLessThanOrEqualTo(65);
            long span = times.stream().max(Long::compare).orElseThrow() - times.stream().min(Long::compare).orElseThrow();
            assertThat(span).as("150 jobs at 20/s after a burst of 5").isGreaterThanOrEqualTo((total - 5) * 1000L / 20 - 50);
            System.out.printf("rate limit 20/s burst 5: %d jobs over %d ms, busiest 1 s window %d, busiest 3 s window %d%n",
                    total, span, busiestWindow(times, 1000), busiestWindow(times, 3000));
        } finally {
            first.close();
            second.close();
        }
    }

    @Test
    void aTenantRateLimitHoldsExactlyAcrossFunctionsOnDifferentPartitionsAndInstances() throws Exception {
        String tenant = "tenant-" + UUID.randomUUID().toString().substring(0, 8);
        producer.send(new ProducerRecord<>(Topics.TENANTS, tenant, new AvroSerializer<TenantSpec>(registry).serialize(Topics.TENANTS,
                TenantSpec.newBuilder().setName(tenant).setRateLimit(new RateLimit(10.0, 2)).build()))).get();
        List<String> names = new ArrayList<>();
        for (int f = 0; f < 4; f++) {
            names.add(tenant + "-fn-" + f);
            deploy(FunctionSpec.newBuilder().setName(names.get(f)).setTenant(tenant).setImage("unused").setPool("it-rate").build());
        }
        Dispatcher first = startDispatcher("tenant-a");
        Dispatcher second = startDispatcher("tenant-b");
        int total = 60;
        try (Reader reader = new Reader(Topics.jobs("it-rate"), r -> r.key() != null && r.key().startsWith(tenant))) {
            for (int i = 0; i < total; i++) {
                String function = names.get(i % names.size());
                send(function, Event.newBuilder(event(tenant + "-job-" + i, function)).setTenant(tenant).build());
            }
            producer.flush();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> reader.poll() >= total);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ZERO).until(() -> reader.poll() == total);
            List<Job> jobs = jobs(reader);
            assertThat(jobs).extracting(Job::getJobId).doesNotHaveDuplicates().hasSize(total);
            assertThat(jobs).extracting(j -> j.getFunction().getName()).containsAll(names);
            List<Long> times = jobs.stream().map(j -> j.getEnqueuedAt().toEpochMilli()).toList();
            assertThat(busiestWindow(times, 1000)).isLessThanOrEqualTo(12);
            assertThat(busiestWindow(times, 3000)).isLessThanOrEqualTo(32);
            System.out.printf("tenant rate limit 10/s burst 2 over 4 functions: busiest 1 s window %d, 3 s window %d%n",
                    busiestWindow(times, 1000), busiestWindow(times, 3000));
        } finally {
            first.close();
            second.close();
        }
    }

    @Test
    void aKilledDispatcherLosesNoHeldJobTimerOrScheduleAndFiresNoScheduleTwice() throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String limited = "held-" + suffix;
        String scheduled = "sched-" + suffix;
        deploy(FunctionSpec.newBuilder().setName(limited).setImage("unused").setPool("it-crash").setRateLimit(new RateLimit(4.0, 1)).build());
        deploy(FunctionSpec.newBuilder().setName(scheduled).setImage("unused").setPool("it-crash").build());
        Process crashing = startDispatcherProcess("crash-a");
        Dispatcher survivor = null;
        try (Reader jobsReader = new Reader(Topics.jobs("it-crash"), r -> true);
             Reader eventsReader = new Reader(Topics.EVENTS, r -> scheduled.equals(r.key()))) {
            String scheduleId = "every-second-" + suffix;
            Schedule schedule = Schedule.newBuilder().setId(scheduleId).setFunction(scheduled).setEveryMillis(1000L).setMaxRuns(12L)
                    .setCreatedAt(Instant.now()).build();
            producer.send(new ProducerRecord<>(Topics.SCHEDULES, scheduleId, new AvroSerializer<Schedule>(registry).serialize(Topics.SCHEDULES, schedule)));
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                expected.add(limited + "-" + i);
                send(limited, event(limited + "-" + i, limited));
            }
            for (int i = 0; i < 5; i++) {
                String id = limited + "-delayed-" + i;
                expected.add(id);
                send(limited, Event.newBuilder(event(id, limited)).setRunAt(Instant.now().plusSeconds(6 + i)).build());
            }
            producer.flush();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
                jobsReader.poll();
                eventsReader.poll();
                return jobs(jobsReader).stream().filter(j -> j.getFunction().getName().equals(limited)).count() >= 8
                        && eventsReader.records.size() >= 3;
            });
            crashing.destroyForcibly().waitFor();
            int firedBeforeKill = eventsReader.poll();

            survivor = startDispatcher("crash-b"); // an empty state directory: everything comes back from the changelogs
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ZERO).until(() -> {
                jobsReader.poll();
                eventsReader.poll();
                return jobs(jobsReader).stream().filter(j -> j.getFunction().getName().equals(limited)).count() >= expected.size()
                        && eventsReader.records.size() >= 12;
            });
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).pollInterval(Duration.ZERO).until(() -> {
                jobsReader.poll();
                eventsReader.poll();
                return true;
            });
            List<Job> jobs = jobs(jobsReader);
            List<String> limitedIds = jobs.stream().filter(j -> j.getFunction().getName().equals(limited)).map(Job::getJobId).toList();
            assertThat(limitedIds).as("every held and delayed job, once").doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(expected);
            assertThat(busiestWindow(jobs.stream().filter(j -> j.getFunction().getName().equals(limited))
                    .map(j -> j.getEnqueuedAt().toEpochMilli()).toList(), 1000)).isLessThanOrEqualTo(5);

            List<String> fired = eventsReader.records.stream().map(ConsumerRecord::value)
                    .map(v -> new AvroDeserializer<>(registry, Event.class).deserialize(Topics.EVENTS, v).getId()).toList();
            assertThat(fired).as("schedule firings (%d before the kill)", firedBeforeKill).doesNotHaveDuplicates().hasSize(12)
                    .allSatisfy(id -> assertThat(id).startsWith(scheduleId + "@"));
            List<String> scheduledJobs = jobs.stream().filter(j -> j.getFunction().getName().equals(scheduled)).map(Job::getJobId).toList();
            assertThat(scheduledJobs).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(fired);
        } finally {
            crashing.destroyForcibly();
            if (survivor != null) {
                survivor.close();
            }
        }
    }

    @Test
    void aDispatcherWhoseRegistryIsAwayBacksOffInsteadOfSpinningAndDispatchesOnceItAnswers() throws Exception {
        String function = "away-" + UUID.randomUUID().toString().substring(0, 8);
        deploy(FunctionSpec.newBuilder().setName(function).setImage("unused").setPool("it-rate").build());
        URI real = URI.create(registryUrl);
        try (TcpSwitch registrySwitch = new TcpSwitch(real.getHost(), real.getPort());
             Reader reader = new Reader(Topics.jobs("it-rate"), r -> r.key() != null && r.key().startsWith(function))) {
            registrySwitch.turn(true);
            Map<String, Object> settings = settings("registry-away");
            settings.put(DispatcherConfig.REGISTRY_URL_CONFIG, "http://127.0.0.1:" + registrySwitch.port() + real.getPath());
            settings.put(DispatcherConfig.APPLICATION_ID_CONFIG, "wharf-dispatcher-it-" + function);
            Dispatcher dispatcher = new Dispatcher(settings).start();
            try {
                assertThat(dispatcher.awaitRunning(Duration.ofSeconds(60))).isTrue();
                registrySwitch.turn(false);
                // Written with a schema the dispatcher has not seen (a later Event version): it must ask the registry for it.
                producer.send(new ProducerRecord<>(Topics.EVENTS, function, withUnseenSchema(event(function + "-1", function)))).get();
                await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(60)).until(() -> registrySwitch.refused() > 0);

                // Nothing to wait for but the outage: the dispatcher must stay up and ask again now and then, not in a tight loop.
                // (Its stream threads fail on purpose meanwhile: Awaitility must not take their exceptions for the test's.)
                int before = registrySwitch.refused();
                await().dontCatchUncaughtExceptions().during(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(15)).until(() -> dispatcher.state() == Role.State.RUNNING);
                int asked = registrySwitch.refused() - before;
                System.out.println("The dispatcher asked the unreachable registry " + asked + " times in 10 s");
                assertThat(asked).as("registry requests in 10 s of outage").isBetween(1, 40);

                registrySwitch.turn(true);
                await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(90)).until(() -> reader.poll() > 0);
                assertThat(jobs(reader)).extracting(Job::getJobId).containsExactly(function + "-1");
            } finally {
                dispatcher.close();
            }
        }
    }

    /** The event in the Confluent wire format under a later version of its schema (one more optional field), registered now. */
    private static byte[] withUnseenSchema(Event event) throws IOException {
        Schema later = new Schema.Parser().parse(Event.getClassSchema().toString()
                .replaceFirst("\\]\\s*}\\s*$", ", {\"name\": \"laterField\", \"type\": [\"null\", \"string\"], \"default\": null}]}"));
        int id = new HttpSchemaRegistryClient(registryUrl).register("dispatcher-it-later-events-value", later);
        // Written as an Event, read back as the later version (its new field at its default), written as that.
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(plain, null);
        new SpecificDatumWriter<Event>(Event.class).write(event, encoder);
        encoder.flush();
        GenericRecord record = new GenericDatumReader<GenericRecord>(Event.getClassSchema(), later)
                .read(null, DecoderFactory.get().binaryDecoder(plain.toByteArray(), null));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(later).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
