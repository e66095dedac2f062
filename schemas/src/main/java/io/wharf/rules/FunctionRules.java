package io.wharf.rules;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import io.wharf.records.FunctionSpec;
import io.wharf.records.RateLimit;
import io.wharf.records.RetryPolicy;
import io.wharf.topics.Topics;

/**
 * What makes a function definition one a job can run with, checked once for {@code wharf deploy} (which refuses it)
 * and for the dispatcher (which refuses a record written straight to {@code wharf.functions} and keeps the previous
 * definition). Each refusal names the field, the value and the fix.
 */
public final class FunctionRules {
    /** Docker refuses a container with less memory. */
    public static final int MIN_MEMORY_MB = 6;
    /** The most CPUs a function may ask for: more is a typo, not a job. */
    public static final double MAX_CPUS = 256;
    /** The longest timeout a function may have. */
    public static final Duration MAX_TIMEOUT = Duration.ofDays(7);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,199}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** uid or user name, optionally :gid or :group, as Docker takes them. */
    private static final Pattern USER = Pattern.compile("([0-9]{1,10}|[a-z_][a-z0-9_-]{0,31})(:([0-9]{1,10}|[a-z_][a-z0-9_-]{0,31}))?");

    private FunctionRules() {
    }

    /** Why no job could run with {@code fn}, or empty when one can. */
    public static Optional<String> violation(FunctionSpec fn) {
        if (fn.getName() == null || !NAME.matcher(fn.getName()).matches()) {
            return bad("name", fn.getName(), "use 1 to 200 letters, digits, '_', '.' or '-', starting with a letter or digit");
        }
        try {
            Topics.jobs(fn.getPool());
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
        if (fn.getImage() == null || fn.getImage().isBlank() || fn.getImage().chars().anyMatch(Character::isWhitespace)) {
            return bad("image", fn.getImage(), "name an image, e.g. registry.example/team/app:1");
        }
        if (fn.getPayloadKey() != null) {
            try {
                io.wharf.secrets.PayloadEnvelope.publicKey(fn.getPayloadKey());
            } catch (IllegalArgumentException e) {
                return bad("payloadKey", fn.getPayloadKey().length() > 40 ? fn.getPayloadKey().substring(0, 40) + "..." : fn.getPayloadKey(),
                        e.getMessage());
            }
        }
        if (fn.getMemoryMb() < MIN_MEMORY_MB) {
            return bad("memory", fn.getMemoryMb() + " MiB", "the Docker engine needs at least " + MIN_MEMORY_MB + " MiB");
        }
        if (!(fn.getCpus() > 0 && fn.getCpus() <= MAX_CPUS)) {
            return bad("cpus", String.valueOf(fn.getCpus()), "use a number above 0 and at most " + (int) MAX_CPUS + ", e.g. 0.5");
        }
        if (fn.getTimeoutMillis() <= 0 || fn.getTimeoutMillis() > MAX_TIMEOUT.toMillis()) {
            return bad("timeout", fn.getTimeoutMillis() + " ms", "use a duration above 0 and at most 7 days, e.g. 30s");
        }
        if (fn.getHttpPort() != null && (fn.getHttpPort() < 1 || fn.getHttpPort() > 65_535)) {
            return bad("httpPort", String.valueOf(fn.getHttpPort()), "use the port the image's server listens on, 1 to 65535");
        }
        if (fn.getMaxConcurrency() != null && fn.getMaxConcurrency() < 1) {
            return bad("maxConcurrency", String.valueOf(fn.getMaxConcurrency()), "use 1 or more, or leave it out for no cap");
        }
        if (fn.getMaxPending() < 0) {
            return bad("maxPending", String.valueOf(fn.getMaxPending()), "use 0 (refuse what cannot run at once) or more");
        }
        if (fn.getPriority() < 0 || fn.getPriority() > 2) {
            return bad("priority", String.valueOf(fn.getPriority()), "use 0 (high), 1 or 2 (low)");
        }
        if (fn.getMaxPayloadBytes() < 0 || fn.getMaxPayloadBytes() > Topics.MAX_RECORD_BYTES) {
            return bad("maxPayload", fn.getMaxPayloadBytes() + " bytes", "use 0 to " + Topics.MAX_RECORD_BYTES + " bytes");
        }
        if (fn.getMaxJobAgeMillis() != null && fn.getMaxJobAgeMillis() <= 0) {
            return bad("maxAge", fn.getMaxJobAgeMillis() + " ms", "use a duration above 0, or leave it out");
        }
        RateLimit rate = fn.getRateLimit();
        if (rate != null && (!(rate.getPerSecond() > 0) || Double.isInfinite(rate.getPerSecond()) || rate.getBurst() < 1)) {
            return bad("rate", rate.getPerSecond() + "/s burst " + rate.getBurst(), "use a rate above 0, e.g. 10/s, and a burst of 1 or more");
        }
        RetryPolicy retry = fn.getRetry();
        if (retry != null && (retry.getMaxAttempts() < 1 || retry.getInitialBackoffMillis() < 0 || retry.getMaxBackoffMillis() < 0
                || !(retry.getMultiplier() >= 1) || !(retry.getJitter() >= 0 && retry.getJitter() <= 1))) {
            return bad("retry", retry.toString(), "maxAttempts 1 or more, backoffs 0 or more, multiplier 1 or more, jitter 0 to 1");
        }
        Optional<String> env = variables("env", fn.getEnv());
        if (env.isPresent()) {
            return env;
        }
        Optional<String> secretEnv = variables("secretEnv", fn.getSecretEnv());
        if (secretEnv.isPresent()) {
            return secretEnv;
        }
        if (fn.getUser() != null && !USER.matcher(fn.getUser()).matches()) {
            return bad("user", fn.getUser(), "use uid[:gid] or a user name, e.g. 1000:1000");
        }
        return Optional.empty();
    }

    private static Optional<String> variables(String field, Map<String, String> env) {
        for (String name : env.keySet()) {
            if (!ENV_NAME.matcher(name).matches()) {
                return bad(field, name, "a variable name is letters, digits and _, not starting with a digit");
            }
            if (name.startsWith("WHARF_")) {
                return bad(field, name, "WHARF_ names are set by the worker for each job (WHARF_JOB_ID, ...)");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> bad(String field, String value, String fix) {
        return Optional.of(field + " '" + value + "' is invalid: " + fix);
    }
}
