package io.wharf.serde;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Serdes for Wharf's records sharing one registry client. */
public final class WharfSerdes {
    private WharfSerdes() {
    }

    public static <T extends SpecificRecord> Serde<T> serde(SchemaRegistryClient registry, Class<T> type) {
        return Serdes.serdeFrom(new AvroSerializer<>(registry), new AvroDeserializer<>(registry, type));
    }
}
