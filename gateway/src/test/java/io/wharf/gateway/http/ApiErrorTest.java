package io.wharf.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

import io.wharf.serde.SchemaRegistryException;

class ApiErrorTest {
    @Test
    void aRegistryThatDoesNotAnswerIs503WithRetryAfter() {
        ApiError error = ApiError.failure(new SchemaRegistryException("Could not reach the schema registry at http://127.0.0.1:1/", null, true));

        assertThat(error.status()).isEqualTo(503);
        assertThat(error.headers()).containsEntry("Retry-After", "1");
        assertThat(error.body()).containsEntry("error", "unavailable");
        assertThat((String) error.body().get("message")).contains("schema registry did not answer", "127.0.0.1:1");
    }

    @Test
    void aClusterThatTimesOutIs503EvenWhenWrapped() {
        ApiError error = ApiError.failure(new IllegalStateException("send failed", new TimeoutException("Topic wharf.events not present in metadata")));

        assertThat(error.status()).isEqualTo(503);
        assertThat(error.headers()).containsEntry("Retry-After", "1");
        assertThat((String) error.body().get("message")).contains("Kafka cluster did not answer", "wharf.events");
    }

    @Test
    void aRegistryThatRefusesAndAnythingElseAre500NamingTheFailure() {
        assertThat(ApiError.failure(new SchemaRegistryException("HTTP 409 incompatible schema")).status()).isEqualTo(500);
        ApiError error = ApiError.failure(new KafkaException("record too large"));

        assertThat(error.status()).isEqualTo(500);
        assertThat(error.body()).containsEntry("error", "internal");
        assertThat((String) error.body().get("message")).contains("record too large");
    }
}
