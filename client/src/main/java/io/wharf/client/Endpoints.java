package io.wharf.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** Where a Wharf installation listens: its Kafka bootstrap servers and its schema registry. */
public record Endpoints(String bootstrap, String registry) {

    /** Written by {@code wharf dev}, read by the other commands when no flags are given. */
    public static Path stateFile() {
        String override = System.getenv("WHARF_STATE_FILE");
        return override != null ? Path.of(override) : Path.of(System.getProperty("user.home"), ".wharf", "dev.properties");
    }

    public static Properties read(Path file) throws IOException {
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            props.load(in);
        }
        return props;
    }

    /** The registry named by the flag, else that of the running {@code wharf dev}. */
    public static String registry(String registry) {
        return registry != null ? registry : resolve(null, null).registry();
    }

    /** The endpoints named by flags, else those of the running {@code wharf dev}. */
    public static Endpoints resolve(String bootstrap, String registry) {
        if (bootstrap != null && registry != null) {
            return new Endpoints(bootstrap, registry);
        }
        Path file = stateFile();
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("No --bootstrap/--registry given and no `wharf dev` is running (" + file
                    + " is missing): start `./wharf dev` in another terminal, or pass --bootstrap HOST:PORT and --registry URL");
        }
        try {
            Properties props = read(file);
            return new Endpoints(bootstrap != null ? bootstrap : props.getProperty("bootstrap"),
                    registry != null ? registry : props.getProperty("registry"));
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
