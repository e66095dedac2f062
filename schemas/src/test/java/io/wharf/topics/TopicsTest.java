package io.wharf.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void shouldPlaceAKeyWhereJavasProducerPutsIt() {
        for (int i = 0; i < 1_000; i++) {
            String key = i % 2 == 0 ? UUID.randomUUID().toString() : "fn-" + i + "-ü";
            for (int partitions : new int[] {1, 3, 4, 12}) {
                assertThat(Topics.partitionOf(key, partitions))
                        .as("%s on %d partitions", key, partitions)
                        .isEqualTo(BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), partitions));
            }
        }
    }

    @Test
    void shouldNameEveryClientTopicWithItsSubjectOnce() {
        assertThat(TopicSchemas.ALL).extracting(TopicSchemas.Entry::subject).doesNotHaveDuplicates()
                .contains("wharf.events-value", "wharf.functions-value", "wharf.schedules-value", "wharf.tenants-value",
                        "wharf.control-value", "wharf.results-value");
        assertThat(TopicSchemas.ALL).filteredOn(e -> e.topic().equals(Topics.EVENTS)).singleElement()
                .extracting(TopicSchemas.Entry::use).isEqualTo(TopicSchemas.Use.CLIENTS_WRITE);
    }

    @Test
    void shouldDocumentEveryClientTopicWithItsKeyAndSubject() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "topics.md"));
        for (TopicSchemas.Entry entry : TopicSchemas.ALL) {
            assertThat(doc).as("docs/topics.md").contains("| `" + entry.topic() + "` | " + entry.key() + " |")
                    .contains("`" + entry.subject() + "` (`" + entry.value().getName() + "`)");
        }
    }
}
