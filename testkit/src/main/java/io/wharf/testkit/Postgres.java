package io.wharf.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import io.wharf.embedded.Ports;
import io.wharf.embedded.TempDirs;
import io.wharf.embedded.Wait;

/**
 * A PostgreSQL server of the test's own: Debian's {@code postgresql} started as a child process on a free loopback
 * port, with logical replication on ({@code wal_level=logical}), a superuser {@code wharf} (password {@value #PASSWORD},
 * checked with scram) and a database {@code wharf}. Run as root, the server runs as the {@code postgres} user, as
 * PostgreSQL requires. Stopping it stops the process and removes its data.
 */
public final class Postgres implements AutoCloseable {
    public static final String USER = "wharf";
    public static final String PASSWORD = "wharf-test";
    public static final String DATABASE = "wharf";

    private final Path dir;
    private final Process process;
    private final int port;
    private final List<String> stop;

    private Postgres(Path dir, Process process, int port, List<String> stop) {
        this.dir = dir;
        this.process = process;
        this.port = port;
        this.stop = stop;
    }

    public static Postgres start() {
        Path bin = binaries();
        Path dir = null;
        Process process = null;
        try {
            dir = Files.createTempDirectory("wharf-postgres-");
            Path data = dir.resolve("data");
            Path password = dir.resolve("password");
            Files.writeString(password, PASSWORD + "\n");
            boolean root = "root".equals(System.getProperty("user.name"));
            if (root) {
                run(List.of("chown", "-R", "postgres", dir.toString()));
            }
            run(as(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "--pwfile", password.toString(),
                    "-A", "scram-sha-256", "-E", "UTF8", "--no-sync")));
            int port = Ports.free();
            process = new ProcessBuilder(as(root, List.of(bin.resolve("postgres").toString(), "-D", data.toString(), "-p", String.valueOf(port),
                    "-k", dir.toString(), "-c", "listen_addresses=127.0.0.1", "-c", "wal_level=logical", "-c", "max_replication_slots=20",
                    "-c", "max_wal_senders=20", "-c", "fsync=off", "-c", "full_page_writes=off")))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
            Postgres postgres = new Postgres(dir, process, port, as(root, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(),
                    "stop", "-m", "fast", "-w")));
            Process started = process;
            Wait.until("PostgreSQL on 127.0.0.1:" + port, Duration.ofSeconds(60), Duration.ofMillis(100), () -> started.isAlive() && postgres.answers());
            try (Connection c = DriverManager.getConnection(postgres.url("postgres"), USER, PASSWORD); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + DATABASE);
            }
            return postgres;
        } catch (IOException | SQLException | RuntimeException e) {
            if (process != null) {
                process.destroyForcibly();
            }
            String log = "";
            try {
                log = dir == null ? "" : Files.readString(dir.resolve("postgres.log"));
            } catch (IOException ignored) {
                // no log yet
            }
            TempDirs.delete(dir);
            throw new IllegalStateException("PostgreSQL did not start: " + e.getMessage() + "\n" + log, e);
        }
    }

    /** The newest installed PostgreSQL's binaries. */
    private static Path binaries() {
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres")))
                    .max(Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                    .orElseThrow();
        } catch (IOException | java.util.NoSuchElementException e) {
            throw new IllegalStateException("No PostgreSQL under /usr/lib/postgresql: install Debian's postgresql", e);
        }
    }

    private static List<String> as(boolean root, List<String> command) {
        List<String> all = new ArrayList<>();
        if (root) {
            all.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        all.addAll(command);
        return all;
    }

    private static void run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private boolean answers() {
        try (Connection c = DriverManager.getConnection(url("postgres"), USER, PASSWORD)) {
            return c.isValid(1);
        } catch (SQLException e) {
            return false;
        }
    }

    private String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public int port() {
        return port;
    }

    public String jdbcUrl() {
        return url(DATABASE);
    }

    /** Runs {@code sql} statements in database {@value #DATABASE}, each committed. */
    public void execute(String... sql) {
        try (Connection c = DriverManager.getConnection(jdbcUrl(), USER, PASSWORD); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed: " + e.getMessage(), e);
        }
    }

    /** The first column of the first row {@code sql} returns, as text. */
    public String query(String sql) {
        try (Connection c = DriverManager.getConnection(jdbcUrl(), USER, PASSWORD); Statement s = c.createStatement();
             java.sql.ResultSet rows = s.executeQuery(sql)) {
            return rows.next() ? rows.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            run(stop); // a fast shutdown: it ends replication connections too
        } catch (IOException e) {
            process.destroy();
        }
        try {
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        TempDirs.delete(dir);
    }
}
