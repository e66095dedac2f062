package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.DockerClient;

import io.wharf.client.Endpoints;
import io.wharf.client.WharfClient;
import io.wharf.dispatcher.Dispatcher;
import io.wharf.dispatcher.DispatcherConfig;
import io.wharf.embedded.EmbeddedKafka;
import io.wharf.embedded.LocalImages;
import io.wharf.embedded.TempDirs;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.serde.RegistrySettings;
import io.wharf.testkit.RegistryGate;
import io.wharf.testkit.SharedServices;
import io.wharf.testkit.TestTls;
import io.wharf.topics.RoleAcls;
import io.wharf.topics.Topics;
import io.wharf.worker.DockerEngine;
import io.wharf.worker.Worker;
import io.wharf.worker.WorkerConfig;

/**
 * Wharf on a cluster as companies run one: the broker takes only SASL_SSL (SCRAM-SHA-512, OAUTHBEARER) and mutual TLS,
 * with an authorizer and the ACLs of {@link RoleAcls} per principal; the registry sits behind TLS and authentication.
 * Each role connects with its own principal through Kafka's standard client settings; the CLI through a properties file.
 */
class SecuredClusterIT {
    private static final String APP_ID = "wharf-dispatcher-secured";
    private static Path dir;
    private static TestTls tls;
    private static EmbeddedKafka kafka;
    private static RegistryGate registry;
    private static Dispatcher dispatcher;
    private static Worker worker;

    @BeforeAll
    static void start() throws Exception {
        try (DockerClient docker = DockerEngine.client()) {
            LocalImages.busybox(docker);
        }
        dir = Files.createTempDirectory("wharf-secured-");
        tls = TestTls.create(dir);
        kafka = EmbeddedKafka.startSecured(EmbeddedKafka.Secured.with(tls.keystore(), tls.truststore(), tls.password()));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.adminBootstrapServers()))) {
            Topics.ensure(admin, Topics.core(2, (short) 1, List.of(Topics.DEFAULT_POOL)));
            for (String user : List.of("dispatcher", "worker", "operator", "app")) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password(user)))).all().get();
            }
            admin.createAcls(RoleAcls.of(RoleAcls.Role.DISPATCHER, "User:dispatcher", Topics.DEFAULT_POOL, APP_ID)).all().get();
            admin.createAcls(RoleAcls.of(RoleAcls.Role.WORKER, "User:worker", Topics.DEFAULT_POOL, APP_ID)).all().get();
            admin.createAcls(RoleAcls.of(RoleAcls.Role.OPERATOR, "User:operator", Topics.DEFAULT_POOL, APP_ID)).all().get();
            admin.createAcls(RoleAcls.of(RoleAcls.Role.INVOKER, "User:app", Topics.DEFAULT_POOL, APP_ID)).all().get();
            admin.createAcls(RoleAcls.of(RoleAcls.Role.INVOKER, "User:oauth-app", Topics.DEFAULT_POOL, APP_ID)).all().get();
            admin.createAcls(RoleAcls.of(RoleAcls.Role.INVOKER, "User:CN=" + TestTls.CLIENT_CN, Topics.DEFAULT_POOL, APP_ID)).all().get();
        }
        registry = RegistryGate.start(SharedServices.registry().confluentUrl(), tls, "wharf:registry-secret", "registry-token");

        Map<String, Object> d = settings("dispatcher");
        d.put(DispatcherConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        d.put(DispatcherConfig.APPLICATION_ID_CONFIG, APP_ID);
        d.put(DispatcherConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
        d.put(DispatcherConfig.COMMIT_INTERVAL_MS_CONFIG, 10);
        d.put(RegistrySettings.BASIC_AUTH_CONFIG, "wharf:registry-secret");
        dispatcher = new Dispatcher(d).start();

        Map<String, Object> w = settings("worker");
        w.put(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        w.put(WorkerConfig.ID_CONFIG, "secured-worker");
        w.put(WorkerConfig.SLOTS_CONFIG, 2);
        w.put(RegistrySettings.BEARER_TOKEN_CONFIG, "registry-token");
        worker = new Worker(w).start();
    }

    private static String password(String user) {
        return user + "-scram-secret";
    }

    /** Kafka's standard client settings for SASL_SSL with SCRAM as {@code user}, and the registry's trust store. */
    private static Map<String, Object> settings(String user) {
        Map<String, Object> s = new HashMap<>();
        s.put("security.protocol", "SASL_SSL");
        s.put("sasl.mechanism", "SCRAM-SHA-512");
        s.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                + password(user) + "\";");
        s.put("ssl.truststore.location", tls.truststore().toString());
        s.put("ssl.truststore.password", tls.password());
        s.put("ssl.truststore.type", "PKCS12");
        s.put(RegistrySettings.URL_CONFIG, registry.url());
        s.put(RegistrySettings.TRUSTSTORE_LOCATION_CONFIG, tls.truststore().toString());
        s.put(RegistrySettings.TRUSTSTORE_PASSWORD_CONFIG, tls.password());
        return s;
    }

    /** A CLI properties file for {@code user}, readable by its owner only. */
    private static Path configFile(String user) throws IOException {
        Properties props = new Properties();
        settings(user).forEach((k, v) -> props.setProperty(k, String.valueOf(v)));
        props.setProperty("bootstrap.servers", kafka.bootstrapServers());
        props.setProperty(RegistrySettings.BASIC_AUTH_CONFIG, "wharf:registry-secret");
        Path file = dir.resolve(user + ".properties");
        if (Files.exists(file)) {
            return file;
        }
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (var out = Files.newBufferedWriter(file)) {
            props.store(out, null);
        }
        return file;
    }

    @AfterAll
    static void stop() {
        if (worker != null) {
            worker.close();
        }
        if (dispatcher != null) {
            dispatcher.close();
        }
        if (registry != null) {
            registry.close();
        }
        if (kafka != null) {
            kafka.close();
        }
        if (dir != null) {
            TempDirs.delete(dir);
        }
    }

    @Test
    void anOperatorDeploysWithTheCliAndAnApplicationRunsJobsEachWithItsOwnAcls() throws Exception {
        Path operator = configFile("operator");
        assertThat(cli("deploy", "secured-echo", "--image", LocalImages.BUSYBOX, "--memory", "32m", "--timeout", "20s", "--cmd", "sh", "-c",
                "tr a-z A-Z", "--config", operator.toString())).isZero();

        Map<String, Object> app = settings("app");
        app.put(RegistrySettings.BASIC_AUTH_CONFIG, "wharf:registry-secret");
        try (WharfClient client = new WharfClient(new Endpoints(kafka.bootstrapServers(), registry.url()), app)) {
            JobResult result = client.invoke(client.event("secured-echo", "over tls".getBytes(StandardCharsets.UTF_8), "text/plain"),
                    Duration.ofSeconds(90));
            assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("OVER TLS");
        }
    }

    @Test
    void applicationsAuthenticatedWithOauthBearerOrMutualTlsRunJobsThroughTheSameClientSettings() throws Exception {
        Path operator = configFile("operator");
        assertThat(cli("deploy", "secured-rev", "--image", LocalImages.BUSYBOX, "--memory", "32m", "--timeout", "20s", "--cmd", "sh", "-c",
                "rev", "--config", operator.toString())).isZero();

        Map<String, Object> oauth = settings("app");
        oauth.put("sasl.mechanism", "OAUTHBEARER");
        oauth.put("sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                + "unsecuredLoginStringClaim_sub=\"oauth-app\";");
        Map<String, Object> mtls = settings("app");
        mtls.keySet().removeIf(k -> k.startsWith("sasl."));
        mtls.put("security.protocol", "SSL");
        mtls.put("ssl.keystore.location", tls.clientKeystore().toString());
        mtls.put("ssl.keystore.password", tls.password());
        mtls.put("ssl.keystore.type", "PKCS12");
        for (Map<String, Object> app : List.of(oauth, mtls)) {
            app.put(RegistrySettings.BASIC_AUTH_CONFIG, "wharf:registry-secret");
            String bootstrap = app == mtls ? kafka.mtlsBootstrapServers() : kafka.bootstrapServers();
            try (WharfClient client = new WharfClient(new Endpoints(bootstrap, registry.url()), app)) {
                JobResult result = client.invoke(client.event("secured-rev", "abc".getBytes(StandardCharsets.UTF_8), "text/plain"),
                        Duration.ofSeconds(90));
                assertThat(result.getStatus()).as(String.valueOf(app.get("security.protocol"))).isEqualTo(JobStatus.SUCCEEDED);
                assertThat(StandardCharsets.UTF_8.decode(result.getBody()).toString()).isEqualTo("cba");
            }
        }
    }

    @Test
    void aPrincipalWithoutWriteOnTheFunctionsTopicCannotDeploy() throws Exception {
        StringWriter err = new StringWriter();
        int exit = Wharf.commandLine().setErr(new PrintWriter(err)).execute("deploy", "secured-intruder", "--image", LocalImages.BUSYBOX,
                "--config", configFile("app").toString());
        assertThat(exit).isNotZero();
        assertThat(err.toString()).contains("Not authorized to").contains("operator");
    }

    @Test
    void theRegistryRefusesAClientWithoutCredentialsSayingWhichSettingToSet() throws Exception {
        Map<String, Object> anonymous = settings("app");
        try (WharfClient client = new WharfClient(new Endpoints(kafka.bootstrapServers(), registry.url()), anonymous)) {
            assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> client.invokeAsync(client.event("secured-echo", new byte[0], "text/plain"))))
                    .hasMessageContaining("HTTP 401").hasMessageContaining(RegistrySettings.BASIC_AUTH_CONFIG);
        }
        assertThat(registry.refused()).isPositive();
    }

    private static int cli(String... args) {
        return Wharf.commandLine().execute(args);
    }
}
