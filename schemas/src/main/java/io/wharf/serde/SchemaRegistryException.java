package io.wharf.serde;

import org.apache.kafka.common.errors.SerializationException;

/** A schema registry refused a request or could not be reached; the message says which and why. */
public class SchemaRegistryException extends SerializationException {
    private final boolean unavailable;

    public SchemaRegistryException(String message) {
        this(message, null, false);
    }

    public SchemaRegistryException(String message, Throwable cause) {
        this(message, cause, false);
    }

    /** {@code unavailable}: the registry could not answer (unreachable, 5xx); the same request may work later. */
    public SchemaRegistryException(String message, Throwable cause, boolean unavailable) {
        super(message, cause);
        this.unavailable = unavailable;
    }

    public boolean unavailable() {
        return unavailable;
    }

    /** Whether {@code e}, or one of its causes, is a registry that could not answer: retry rather than refuse. */
    public static boolean isUnavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SchemaRegistryException r && r.unavailable()) {
                return true;
            }
        }
        return false;
    }
}
