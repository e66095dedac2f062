package io.wharf.serde;

import java.util.Optional;

import org.apache.avro.Schema;

/**
 * The little of a Confluent-compatible schema registry that Wharf needs. Implementations cache: an id never
 * changes its schema, so lookups by id are fetched once.
 */
public interface SchemaRegistryClient {

    /** Compatibility level Wharf puts on every subject it registers. */
    String COMPATIBILITY = "BACKWARD";

    /**
     * Registers {@code schema} under {@code subject} (or finds it, if already registered) and returns its id.
     * A new subject is set to {@link #COMPATIBILITY} first, so the registry refuses incompatible changes.
     *
     * @throws SchemaRegistryException if the registry refuses the schema or cannot be reached
     */
    int register(String subject, Schema schema);

    /** The schema with this id. @throws SchemaRegistryException if there is none */
    Schema schemaById(int id);

    /** A subject's version as the registry serves it. */
    record Version(String subject, int version, int id, Schema schema) {
    }

    /**
     * The latest version under {@code subject}, as a client taking its schema from the registry would fetch it;
     * empty if the subject has none. Never cached.
     *
     * @throws SchemaRegistryException if the registry cannot be reached
     */
    Optional<Version> latest(String subject);
}
