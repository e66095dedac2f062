package io.wharf.dispatcher.internals;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.wharf.records.FunctionSpec;
import io.wharf.records.Job;
import io.wharf.records.RateLimit;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.InMemorySchemaRegistryClient;

class JobWriterTest {
    @Test
    void writesTheSameBytesAsAvroWhileReusingTheSpecEncoding() {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        AvroSerializer<Job> plain = new AvroSerializer<>(registry);
        AvroSerializer<Job> reusing = new AvroSerializer<>(registry, JobWriter::new);
        FunctionSpec spec = FunctionSpec.newBuilder().setName("f").setImage("img:1").setEnv(Map.of("A", "1"))
                .setRateLimit(new RateLimit(5.0, 2)).setCommand(List.of("sh", "-c", "cat")).build();
        for (int i = 0; i < 3; i++) {
            Job job = new Job("job-" + i, 1, spec, ByteBuffer.wrap(("payload " + i).getBytes()), "text/plain", null, Instant.ofEpochMilli(5),
                    Instant.ofEpochMilli(6), null, Map.of("h", "v"), 1, "default", List.of(), null, true,
                    i == 1 ? io.wharf.records.HttpRequest.newBuilder().setMethod("GET").setPath("/p").build() : null, null, Map.of());
            byte[] expected = plain.serialize("wharf.jobs.default", job);
            assertThat(reusing.serialize("wharf.jobs.default", job)).isEqualTo(expected);
            assertThat(new AvroDeserializer<>(registry, Job.class).deserialize("wharf.jobs.default", expected).getFunction()).isEqualTo(spec);
        }
    }
}
