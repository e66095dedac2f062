package io.wharf.secrets;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RegistryAuth;

/**
 * A function's secrets (its registry password and its secret environment) as {@link SealedSecrets} binds them: to the
 * function's name, the registry host of the image a worker will pull, and the value's name. {@code wharf deploy} seals
 * them, workers open them just before the container is made, {@code wharf secrets rotate} re-seals them under a new key.
 */
public final class FunctionSecrets {
    /** The registry Docker pulls from when an image reference names none. */
    public static final String DEFAULT_REGISTRY = "docker.io";
    static final String REGISTRY_PASSWORD = "registry password";
    static final String WEBHOOK_SECRET = "webhook secret";

    private FunctionSecrets() {
    }

    /** The registry host of an image reference, as Docker reads it: a first path part with a dot, a colon or localhost. */
    public static String registryHost(String image) {
        int slash = image.indexOf('/');
        if (slash > 0) {
            String first = image.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                return first.toLowerCase(Locale.ROOT);
            }
        }
        return DEFAULT_REGISTRY;
    }

    /** The host a worker pulls the function's image from: that of its pinned repository digest, else of its image. */
    public static String registryHost(FunctionSpec fn) {
        String digest = fn.getImageDigest();
        return registryHost(digest != null && digest.contains("/") ? digest : fn.getImage());
    }

    public static SealedSecrets.Binding registryPassword(FunctionSpec fn) {
        return new SealedSecrets.Binding(fn.getName(), registryHost(fn), REGISTRY_PASSWORD);
    }

    public static SealedSecrets.Binding webhookSecret(FunctionSpec fn) {
        return new SealedSecrets.Binding(fn.getName(), registryHost(fn), WEBHOOK_SECRET);
    }

    public static SealedSecrets.Binding env(FunctionSpec fn, String variable) {
        return new SealedSecrets.Binding(fn.getName(), registryHost(fn), "env " + variable);
    }

    /** What a secret value reads as when a function is shown (they are sealed anyway, but sealed values are no one's business). */
    public static final String HIDDEN = "(sealed)";

    /** The function with every secret value replaced by {@link #HIDDEN}, for lists and descriptions. */
    public static FunctionSpec hidden(FunctionSpec fn) {
        FunctionSpec.Builder shown = FunctionSpec.newBuilder(fn);
        Map<String, String> env = new LinkedHashMap<>();
        fn.getSecretEnv().keySet().forEach(name -> env.put(name, HIDDEN));
        shown.setSecretEnv(env);
        if (fn.getWebhookSecret() != null) {
            shown.setWebhookSecret(HIDDEN);
        }
        if (fn.getRegistryAuth() != null) {
            shown.setRegistryAuth(RegistryAuth.newBuilder(fn.getRegistryAuth()).setPassword(HIDDEN).build());
        }
        return shown.build();
    }

    /** True when the function carries a sealed value (so a worker needs a key to run it). */
    public static boolean hasSealed(FunctionSpec fn) {
        return (fn.getRegistryAuth() != null && SealedSecrets.isSealed(fn.getRegistryAuth().getPassword()))
                || fn.getSecretEnv().values().stream().anyMatch(SealedSecrets::isSealed)
                || fn.getWebhookSecret() != null && SealedSecrets.isSealed(fn.getWebhookSecret());
    }

    /**
     * The function with every secret sealed under {@code keys}' sealing key: values in clear are sealed, values sealed
     * under another key (or by an earlier release) are opened with the ring and sealed again. What already is sealed under
     * the sealing key is kept as it is.
     *
     * @throws IllegalArgumentException naming the value that none of the keys opens
     */
    public static FunctionSpec sealAll(SealedSecrets keys, FunctionSpec fn) {
        FunctionSpec.Builder sealed = FunctionSpec.newBuilder(fn);
        if (fn.getRegistryAuth() != null) {
            String password = reseal(keys, fn, fn.getRegistryAuth().getPassword(), registryPassword(fn));
            sealed.setRegistryAuth(RegistryAuth.newBuilder(fn.getRegistryAuth()).setPassword(password).build());
        }
        if (fn.getWebhookSecret() != null) {
            sealed.setWebhookSecret(reseal(keys, fn, fn.getWebhookSecret(), webhookSecret(fn)));
        }
        Map<String, String> env = new LinkedHashMap<>();
        fn.getSecretEnv().forEach((name, value) -> env.put(name, reseal(keys, fn, value, env(fn, name))));
        return sealed.setSecretEnv(env).build();
    }

    private static String reseal(SealedSecrets keys, FunctionSpec fn, String value, SealedSecrets.Binding binding) {
        if (SealedSecrets.keyIdOf(value).filter(keys.sealingKeyId()::equals).isPresent()) {
            return value;
        }
        try {
            String plain = value.startsWith(SealedSecrets.PREFIX_V1) ? keys.openV1(value, fn.getName()) : keys.open(value, binding);
            return keys.seal(plain, binding);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("The " + binding.name() + " of function " + fn.getName() + " cannot be re-sealed: "
                    + e.getMessage(), e);
        }
    }

    /** The registry password in clear, or null when the function has none. */
    public static String openRegistryPassword(SealedSecrets keys, FunctionSpec fn) {
        String password = fn.getRegistryAuth() == null ? null : fn.getRegistryAuth().getPassword();
        return open(keys, fn, password, registryPassword(fn));
    }

    /** The webhook secret in clear, or null when the function has none. */
    public static String openWebhookSecret(SealedSecrets keys, FunctionSpec fn) {
        return open(keys, fn, fn.getWebhookSecret(), webhookSecret(fn));
    }

    /** The secret environment in clear. */
    public static Map<String, String> openEnv(SealedSecrets keys, FunctionSpec fn) {
        Map<String, String> env = new LinkedHashMap<>();
        fn.getSecretEnv().forEach((name, value) -> env.put(name, open(keys, fn, value, env(fn, name))));
        return env;
    }

    private static String open(SealedSecrets keys, FunctionSpec fn, String value, SealedSecrets.Binding binding) {
        if (!SealedSecrets.isSealed(value)) {
            return value;
        }
        if (keys == null) {
            throw new IllegalArgumentException("The " + binding.name() + " of function " + fn.getName() + " is sealed and this process has no "
                    + SealedSecrets.KEY_SETTING + " (or " + SealedSecrets.KEY_FILE_SETTING + "): give workers the key the deployer had in "
                    + "WHARF_SECRETS_KEY");
        }
        try {
            return keys.open(value, binding);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("The " + binding.name() + " of function " + fn.getName() + " does not open with this process's "
                    + "keys: " + e.getMessage(), e);
        }
    }
}
