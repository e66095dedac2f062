package io.wharf.serde;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * A registry in memory, for unit tests and {@code TopologyTestDriver}. It assigns ids like a real registry
 * (one id per distinct schema, shared across subjects) and enforces BACKWARD compatibility per subject.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {
    private final Map<String, Integer> idsBySchema = new HashMap<>();
    private final List<Schema> schemas = new ArrayList<>();
    private final Map<String, List<Schema>> versions = new HashMap<>();

    @Override
    public synchronized int register(String subject, Schema schema) {
        List<Schema> subjectVersions = versions.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!subjectVersions.contains(schema)) {
            if (!subjectVersions.isEmpty()) {
                Schema latest = subjectVersions.getLast();
                var result = SchemaCompatibility.checkReaderWriterCompatibility(schema, latest);
                if (result.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
                    throw new SchemaRegistryException("Schema " + schema.getFullName() + " is not BACKWARD compatible with the latest version of subject '"
                            + subject + "': " + result.getDescription());
                }
            }
            subjectVersions.add(schema);
        }
        return idsBySchema.computeIfAbsent(schema.toString(), s -> {
            schemas.add(schema);
            return schemas.size();
        });
    }

    @Override
    public synchronized Optional<Version> latest(String subject) {
        List<Schema> subjectVersions = versions.getOrDefault(subject, List.of());
        if (subjectVersions.isEmpty()) {
            return Optional.empty();
        }
        Schema schema = subjectVersions.getLast();
        return Optional.of(new Version(subject, subjectVersions.size(), idsBySchema.get(schema.toString()), schema));
    }

    @Override
    public synchronized Schema schemaById(int id) {
        if (id < 1 || id > schemas.size()) {
            throw new SchemaRegistryException("No schema with id " + id + " in the in-memory registry");
        }
        return schemas.get(id - 1);
    }
}
