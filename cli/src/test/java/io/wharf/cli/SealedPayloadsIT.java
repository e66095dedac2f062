package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.DockerClient;

import io.wharf.client.Triggers;
import io.wharf.client.WharfClient;
import io.wharf.embedded.JavaImages;
import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.secrets.FunctionSecrets;
import io.wharf.secrets.PayloadEnvelope;
import io.wharf.secrets.SealedSecrets;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.WorkerConfig;

/**
 * A function with a payload key: what the client, the CLI, the gateway and a trigger send it reaches Kafka sealed; the
 * job (docs/examples/sealed/OpenPayload.java, plain JDK) opens it with its private key, and a caller's reply key seals
 * the answer back. Every byte of every topic (but the trigger's own source topic) is scanned for the payloads in clear.
 */
class SealedPayloadsIT {
    private static final String SECRETS_KEY = SealedSecrets.newKey();
    private static DevCluster cluster;
    private static WharfClient client;
    private static KeyPair functionKeys;
    private static KeyPair callerKeys;
    private static String function;
    private static String unique;

    @BeforeAll
    static void start() throws Exception {
        cluster = DevCluster.start(2, false, Map.of(WorkerConfig.SECRETS_KEY_CONFIG, SECRETS_KEY), 0);
        client = new WharfClient(cluster.endpoints());
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(3072);
        functionKeys = rsa.generateKeyPair();
        callerKeys = rsa.generateKeyPair();
        unique = UUID.randomUUID().toString().substring(0, 8);
        String image;
        try (DockerClient docker = DockerEngine.client()) {
            image = JavaImages.ensure(docker, "wharf-local/open-payload:" + unique, Map.of("OpenPayload.class", compileExample()), "OpenPayload");
        }
        function = "sealed-" + unique;
        FunctionSpec spec = FunctionSpec.newBuilder().setName(function).setImage(image).setMemoryMb(192).setTimeoutMillis(60_000)
                .setSecretEnv(Map.of("PAYLOAD_PRIVATE_KEY", pem("PRIVATE KEY", functionKeys.getPrivate().getEncoded())))
                .setPayloadKey(pem("PUBLIC KEY", functionKeys.getPublic().getEncoded())).build();
        client.deploy(FunctionSecrets.sealAll(SealedSecrets.fromBase64("test", SECRETS_KEY), spec));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The example job, compiled from the docs as a user would. */
    private static byte[] compileExample() throws Exception {
        Path out = Files.createTempDirectory("wharf-open-payload-");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, "--release", "21", "-d", out.toString(), Path.of("..", "docs", "examples", "sealed", "OpenPayload.java").toString());
        assertThat(status).as("the example compiles").isZero();
        byte[] bytes = Files.readAllBytes(out.resolve("OpenPayload.class"));
        io.wharf.embedded.TempDirs.delete(out);
        return bytes;
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    private static String opened(byte[] sealedAnswer) {
        return new String(PayloadEnvelope.open(sealedAnswer, callerKeys.getPrivate()).payload(), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(java.nio.ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    @Test
    void payloadsReachKafkaSealedAndOnlyTheJobAndTheCallerReadThem() throws Exception {
        String replyKey = PayloadEnvelope.encode((RSAPublicKey) callerKeys.getPublic());
        List<String> secrets = new ArrayList<>();

        // The client: sealed before it is sent; the answer sealed back to the caller's key.
        String viaClient = "client-secret-" + unique;
        secrets.add(viaClient);
        Event event = client.event(function, viaClient.getBytes(StandardCharsets.UTF_8), "text/plain");
        event.setHeaders(Map.of(PayloadEnvelope.REPLY_KEY_HEADER, replyKey));
        JobResult result = client.invoke(event, Duration.ofSeconds(120));
        assertThat(result.getStatus()).as(result.getError() + " " + result.getStderrTail()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(PayloadEnvelope.looksSealed(bytes(result.getBody()))).as("the result body is sealed").isTrue();
        assertThat(opened(bytes(result.getBody()))).isEqualTo("opened: " + viaClient + "\n");

        // The CLI: sealed by its client, the answer opened with --reply-key.
        String viaCli = "cli-secret-" + unique;
        secrets.add(viaCli);
        Path privatePem = Files.createTempFile("caller-", ".pem");
        Files.writeString(privatePem, pem("PRIVATE KEY", callerKeys.getPrivate().getEncoded()));
        java.io.ByteArrayOutputStream stdout = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.out;
        System.setOut(new java.io.PrintStream(stdout, true, StandardCharsets.UTF_8));
        try {
            assertThat(Wharf.commandLine().execute("invoke", function, "--data", viaCli, "--reply-key", privatePem.toString(),
                    "--bootstrap", cluster.endpoints().bootstrap(), "--registry", cluster.endpoints().registry())).isZero();
        } finally {
            System.setOut(original);
            Files.delete(privatePem);
        }
        assertThat(stdout.toString(StandardCharsets.UTF_8)).as("the output (this JVM logs there too)").contains("opened: " + viaCli + "\n");

        // The gateway: the body sealed on the way in, the response sealed to X-Wharf-Reply-Key.
        String viaGateway = "gateway-secret-" + unique;
        secrets.add(viaGateway);
        HttpResponse<byte[]> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(cluster.gatewayUrl() + "/function/" + function))
                .header("Authorization", "Bearer " + cluster.adminKey()).header("X-Wharf-Reply-Key", replyKey)
                .POST(HttpRequest.BodyPublishers.ofString(viaGateway)).timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        assertThat(opened(response.body())).isEqualTo("opened: " + viaGateway + "\n");

        // A trigger: each record sealed before it becomes an event; with no caller to seal to, the job answers a digest.
        String viaTrigger = "trigger-secret-" + unique;
        secrets.add(viaTrigger);
        String source = "sealed-source-" + unique;
        try (Admin admin = client.admin()) {
            admin.createTopics(List.of(new NewTopic(source, 1, (short) 1))).all().get();
        }
        client.triggers().create(Triggers.topicTrigger("sealed-" + unique, function, "default", source, "raw", "earliest", 1, Duration.ofSeconds(1), "key"));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of("bootstrap.servers", cluster.endpoints().bootstrap()),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(source, "k", viaTrigger)).get();
        }
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(viaTrigger.getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> assertThat(resultsOf(function))
                .contains("opened " + viaTrigger.length() + " bytes, sha-256 " + digest + "\n"));

        // A payload in clear, written past the clients, is refused: the function takes sealed payloads only.
        client.payloadKeys(name -> null);
        JobResult clear = client.invoke(client.event(function, "not secret".getBytes(StandardCharsets.UTF_8), "text/plain"), Duration.ofSeconds(60));
        assertThat(clear.getStatus()).isEqualTo(JobStatus.REJECTED);
        assertThat(clear.getError()).contains("takes sealed payloads only");

        // The scan finds what is there: the trigger's source topic, the user's own, holds its record in clear.
        assertThat(clearTextIn(secrets, "")).as("topics holding a payload in clear").containsOnlyKeys(source);
    }

    /** The result bodies of the function's jobs, as text. */
    private static List<String> resultsOf(String function) {
        List<String> bodies = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : everything(io.wharf.topics.Topics.RESULTS)) {
            JobResult result = new io.wharf.serde.AvroDeserializer<>(io.wharf.serde.SchemaRegistryClients.forSettings(
                    WharfClient.registrySettings(cluster.endpoints().registry(), Map.of())), JobResult.class).deserialize(record.topic(), record.value());
            if (result.getFunction().equals(function)) {
                bodies.add(StandardCharsets.UTF_8.decode(result.getBody()).toString());
            }
        }
        return bodies;
    }

    /** Every topic (aborted transactions' records too) but {@code except}, with where each secret appears in clear. */
    private static Map<String, List<String>> clearTextIn(List<String> secrets, String except) throws Exception {
        Map<String, List<String>> found = new java.util.TreeMap<>();
        List<String> topics;
        try (Admin admin = client.admin()) {
            topics = admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true)).names().get().stream()
                    .filter(t -> !t.equals(except)).sorted().toList();
        }
        for (String topic : topics) {
            for (ConsumerRecord<byte[], byte[]> record : everything(topic)) {
                List<byte[]> parts = new ArrayList<>(List.of(record.key() == null ? new byte[0] : record.key(),
                        record.value() == null ? new byte[0] : record.value()));
                for (Header header : record.headers()) {
                    parts.add(header.value() == null ? new byte[0] : header.value());
                }
                for (byte[] part : parts) {
                    String text = new String(part, StandardCharsets.ISO_8859_1);
                    secrets.stream().filter(text::contains).forEach(s -> found.computeIfAbsent(topic, t -> new ArrayList<>()).add(s));
                }
            }
        }
        return found;
    }

    private static List<ConsumerRecord<byte[], byte[]>> everything(String topic) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.endpoints().bootstrap());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp))) {
                consumer.poll(Duration.ofMillis(200)).forEach(all::add);
            }
        }
        return all;
    }
}
