package io.wharf.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.wharf.client.Triggers;
import io.wharf.records.JobResult;
import io.wharf.records.JobStatus;
import io.wharf.records.Trigger;
import io.wharf.sources.spi.TriggerRun;
import io.wharf.testkit.Postgres;
import io.wharf.topics.Topics;

/** A real PostgreSQL's committed row changes become one job each, with the right operation and values, across a restart. */
class DatabaseTriggerIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static SourcesStack stack;
    private static Postgres postgres;

    @BeforeAll
    static void start() throws Exception {
        stack = SourcesStack.shared();
        postgres = Postgres.start();
    }

    @AfterAll
    static void stop() {
        if (postgres != null) {
            postgres.close();
        }
    }

    private List<JsonNode> changes(String function) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JobResult result : stack.all(Topics.RESULTS, JobResult.class, r -> r.getFunction().equals(function))) {
            assertThat(result.getStatus()).isEqualTo(JobStatus.SUCCEEDED);
            out.add(JSON.readTree(StandardCharsets.UTF_8.decode(result.getBody()).toString()));
        }
        return out;
    }

    private static void awaitReading(Sources sources, String name) {
        await().atMost(Duration.ofSeconds(90)).until(() -> sources.runs().get(name) != null
                && sources.runs().get(name).state() == TriggerRun.State.RUNNING);
    }

    @Test
    void everyCommittedRowChangeBecomesOneJobWithItsOperationAndValuesAcrossARestart() throws Exception {
        postgres.execute("CREATE TABLE public.orders (id int PRIMARY KEY, item text NOT NULL, qty int NOT NULL)",
                "ALTER TABLE public.orders REPLICA IDENTITY FULL"); // updates and deletes carry the row as it was
        String function = stack.deployEcho("orders-db");
        String name = "orders-db-" + stack.suffix;
        Trigger trigger = Triggers.databaseTrigger(name, function, "default", "127.0.0.1", postgres.port(), Postgres.DATABASE, Postgres.USER,
                Postgres.PASSWORD, List.of("public.orders"), false, null);
        stack.client.triggers().create(trigger);
        try {
            Sources first = stack.startSources("db-first");
            awaitReading(first, name);
            for (int i = 0; i < 40; i++) { // 40 inserts, 4 to a transaction
                if (i % 4 == 0) {
                    List<String> tx = new ArrayList<>(List.of("BEGIN"));
                    for (int j = i; j < i + 4; j++) {
                        tx.add("INSERT INTO public.orders VALUES (" + j + ", 'item-" + j + "', " + j + ")");
                    }
                    tx.add("COMMIT");
                    postgres.execute(tx.toArray(String[]::new));
                }
            }
            for (int i = 0; i < 10; i++) {
                postgres.execute("UPDATE public.orders SET qty = qty + 100 WHERE id = " + i);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> changes(function).size() >= 20);
            first.close(); // the next changes are made while no instance reads
            for (int i = 10; i < 30; i++) {
                postgres.execute("UPDATE public.orders SET qty = qty + 100 WHERE id = " + i);
            }
            postgres.execute("BEGIN", "DELETE FROM public.orders WHERE id >= 30 AND id < 35", "ROLLBACK"); // never committed: no change
            try (Sources second = stack.startSources("db-second")) {
                awaitReading(second, name);
                for (int i = 30; i < 60; i++) {
                    postgres.execute(i < 40 ? "DELETE FROM public.orders WHERE id = " + i : "DELETE FROM public.orders WHERE id = " + (i - 40));
                }

                await().atMost(Duration.ofSeconds(120)).until(() -> changes(function).size() >= 100);
                List<JsonNode> changes = changes(function);
                assertThat(changes).hasSize(100);
                Map<String, List<JsonNode>> byOperation = changes.stream().collect(Collectors.groupingBy(c -> c.get("operation").asText()));
                assertThat(byOperation.get("insert")).hasSize(40).allSatisfy(c -> {
                    assertThat(c.get("before").isNull()).isTrue();
                    assertThat(c.at("/after/item").asText()).isEqualTo("item-" + c.at("/after/id").asInt());
                    assertThat(c.get("table").asText()).isEqualTo("public.orders");
                });
                assertThat(byOperation.get("update")).hasSize(30).allSatisfy(c ->
                        assertThat(c.at("/after/qty").asInt()).isEqualTo(c.at("/before/qty").asInt() + 100));
                assertThat(byOperation.get("delete")).hasSize(30).allSatisfy(c -> {
                    assertThat(c.get("after").isNull()).isTrue();
                    assertThat(c.at("/before/item").asText()).startsWith("item-");
                });
                assertThat(byOperation.get("delete").stream().map(c -> c.at("/before/id").asInt()).distinct()).hasSize(30);

                assertThat(postgres.query("SELECT count(*) FROM pg_replication_slots")).isEqualTo("1");
                stack.client.triggers().delete(name);
                await("the deleted trigger's replication slot dropped").atMost(Duration.ofSeconds(60)).until(() -> postgres.query(
                        "SELECT count(*) FROM pg_replication_slots").equals("0"));
            }
        } finally {
            if (stack.client.triggers().all().containsKey(name)) {
                stack.client.triggers().delete(name);
            }
        }
    }
}
