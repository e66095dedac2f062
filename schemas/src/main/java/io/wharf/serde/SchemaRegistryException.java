package io.wharf.serde;

import org.apache.kafka.common.errors.SerializationException;

/** A schema registry refused a request or could not be reached; the message says which and why. */
public class SchemaRegistryException extends SerializationException {
    public SchemaRegistryException(String message) {
        super(message);
    }

    public SchemaRegistryException(String message, Throwable cause) {
        super(message, cause);
    }
}
