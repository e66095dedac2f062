package io.wharf.serde;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Base64;
import java.util.Optional;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * How to reach the schema registry: its URL, who Wharf is to it (HTTP basic or a bearer token, as Confluent's
 * registry, Apicurio behind a gateway, Karapace and Redpanda take), and whom to trust over TLS when its certificate is
 * not signed by a CA the JDK knows. The settings are the same keys in every role, the CLI and a serde configured by
 * class name.
 */
public record RegistrySettings(String url, Password basicUserInfo, Password bearerToken, String truststoreLocation, Password truststorePassword,
        String truststoreType) {
    public static final String URL_CONFIG = "wharf.registry.url";
    public static final String BASIC_AUTH_CONFIG = "wharf.registry.basic.auth.user.info";
    public static final String BEARER_TOKEN_CONFIG = "wharf.registry.bearer.auth.token";
    public static final String TRUSTSTORE_LOCATION_CONFIG = "wharf.registry.ssl.truststore.location";
    public static final String TRUSTSTORE_PASSWORD_CONFIG = "wharf.registry.ssl.truststore.password";
    public static final String TRUSTSTORE_TYPE_CONFIG = "wharf.registry.ssl.truststore.type";

    /** {@code def} with the registry's keys added. */
    public static ConfigDef define(ConfigDef def) {
        return def
                .define(URL_CONFIG, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(), Importance.HIGH,
                        "Base URL of a Confluent-compatible schema registry API, e.g. http://127.0.0.1:8081/apis/ccompat/v7 for "
                                + "Apicurio Registry; https:// for TLS.")
                .define(BASIC_AUTH_CONFIG, Type.PASSWORD, null, Importance.MEDIUM,
                        "user:password sent to the registry with HTTP basic authentication.")
                .define(BEARER_TOKEN_CONFIG, Type.PASSWORD, null, Importance.MEDIUM,
                        "A token sent to the registry as Authorization: Bearer (not with basic authentication).")
                .define(TRUSTSTORE_LOCATION_CONFIG, Type.STRING, null, Importance.MEDIUM,
                        "A trust store (PKCS12 or JKS) with the CA that signed the registry's certificate; without it, the JDK's CAs.")
                .define(TRUSTSTORE_PASSWORD_CONFIG, Type.PASSWORD, null, Importance.LOW, "The trust store's password.")
                .define(TRUSTSTORE_TYPE_CONFIG, Type.STRING, "PKCS12", ConfigDef.ValidString.in("PKCS12", "JKS"), Importance.LOW,
                        "The trust store's format.");
    }

    /** The registry settings of a role's or serde's parsed configuration (whose definition went through {@link #define}). */
    public static RegistrySettings from(AbstractConfig config) {
        RegistrySettings settings = new RegistrySettings(config.getString(URL_CONFIG), config.getPassword(BASIC_AUTH_CONFIG),
                config.getPassword(BEARER_TOKEN_CONFIG), config.getString(TRUSTSTORE_LOCATION_CONFIG), config.getPassword(TRUSTSTORE_PASSWORD_CONFIG),
                config.getString(TRUSTSTORE_TYPE_CONFIG));
        if (settings.basicUserInfo != null && settings.bearerToken != null) {
            throw new ConfigException(BEARER_TOKEN_CONFIG, "(hidden)", "Give " + BASIC_AUTH_CONFIG + " or " + BEARER_TOKEN_CONFIG + ", not both");
        }
        if (settings.basicUserInfo != null && !settings.basicUserInfo.value().contains(":")) {
            throw new ConfigException(BASIC_AUTH_CONFIG, "(hidden)", "Must read user:password");
        }
        if (settings.truststoreLocation != null && !Files.isReadable(Path.of(settings.truststoreLocation))) {
            throw new ConfigException(TRUSTSTORE_LOCATION_CONFIG, settings.truststoreLocation, "No readable file there");
        }
        return settings;
    }

    /** A registry that needs no authentication and has a certificate the JDK trusts (or speaks plain HTTP). */
    public static RegistrySettings of(String url) {
        return new RegistrySettings(url, null, null, null, null, "PKCS12");
    }

    /** The Authorization header's value, if the registry wants one. */
    public Optional<String> authorization() {
        if (basicUserInfo != null) {
            return Optional.of("Basic " + Base64.getEncoder().encodeToString(basicUserInfo.value().getBytes(StandardCharsets.UTF_8)));
        }
        return bearerToken == null ? Optional.empty() : Optional.of("Bearer " + bearerToken.value());
    }

    /** A TLS context trusting the trust store, or empty for the JDK's defaults. */
    public Optional<SSLContext> sslContext() {
        if (truststoreLocation == null) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(Path.of(truststoreLocation))) {
            KeyStore store = KeyStore.getInstance(truststoreType);
            store.load(in, truststorePassword == null ? null : truststorePassword.value().toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return Optional.of(context);
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException(TRUSTSTORE_LOCATION_CONFIG, truststoreLocation, "Cannot load it as " + truststoreType + ": " + e.getMessage());
        }
    }
}
