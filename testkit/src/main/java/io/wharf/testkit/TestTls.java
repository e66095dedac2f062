package io.wharf.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed server certificate for 127.0.0.1, a client certificate (CN={@value #CLIENT_CN}, for mutual TLS) and
 * one trust store holding both, made by the JDK's {@code keytool}: what a test's TLS listener (a secured broker, a
 * registry behind TLS) serves, what its clients present, and what each side trusts.
 */
public record TestTls(Path keystore, Path clientKeystore, Path truststore, String password) {
    public static final String CLIENT_CN = "mtls-app";


    public static TestTls create(Path dir) {
        Path keystore = dir.resolve("server.p12");
        Path cert = dir.resolve("server.crt");
        Path truststore = dir.resolve("truststore.p12");
        String password = "wharf-test-" + Long.toHexString(System.nanoTime());
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", password);
        keytool("-exportcert", "-alias", "server", "-keystore", keystore.toString(), "-storepass", password, "-rfc", "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "server", "-file", cert.toString(), "-keystore", truststore.toString(),
                "-storetype", "PKCS12", "-storepass", password);
        Path clientKeystore = dir.resolve("client.p12");
        Path clientCert = dir.resolve("client.crt");
        keytool("-genkeypair", "-alias", "client", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2", "-dname", "CN=" + CLIENT_CN,
                "-keystore", clientKeystore.toString(), "-storetype", "PKCS12", "-storepass", password);
        keytool("-exportcert", "-alias", "client", "-keystore", clientKeystore.toString(), "-storepass", password, "-rfc", "-file", clientCert.toString());
        keytool("-importcert", "-noprompt", "-alias", "client", "-file", clientCert.toString(), "-keystore", truststore.toString(),
                "-storetype", "PKCS12", "-storepass", password);
        return new TestTls(keystore, clientKeystore, truststore, password);
    }

    private static void keytool(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool " + args[0] + " failed: " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("Could not run keytool: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (!Files.exists(Path.of(args[args.length - 1])) && args[0].equals("-exportcert")) {
            throw new IllegalStateException("keytool wrote no certificate");
        }
    }
}
