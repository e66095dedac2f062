package io.wharf.ops;

import java.util.Map;
import java.util.Set;

import org.slf4j.MDC;

/**
 * The MDC keys a log line about a job carries, {@code job}, {@code function} and {@code tenant}, which the shipped log
 * formats print (text: {@code job=... function=... tenant=...}; JSON: the {@code mdc} object), and the choice of format.
 */
public final class JobLogs {
    public static final String JOB = "job";
    public static final String FUNCTION = "function";
    public static final String TENANT = "tenant";
    /** The variable that picks the log format: {@code text} (the default) or {@code json}. */
    public static final String FORMAT_ENV = "WHARF_LOG_FORMAT";
    private static final Set<String> FORMATS = Set.of("text", "json");

    private JobLogs() {
    }

    /** Lines logged on this thread until {@code close} concern this job (null values are left out). */
    public static Scope of(String jobId, String function, String tenant) {
        Map<String, String> before = MDC.getCopyOfContextMap();
        put(JOB, jobId);
        put(FUNCTION, function);
        put(TENANT, tenant);
        return () -> {
            if (before == null) {
                MDC.clear();
            } else {
                MDC.setContextMap(before);
            }
        };
    }

    private static void put(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }

    /** Ends what {@link #of} began, restoring what the thread's MDC held before. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Why {@link #FORMAT_ENV} in {@code env} names no format, or null when it names one (or is unset).
     */
    public static String badFormat(Map<String, String> env) {
        String format = env.get(FORMAT_ENV);
        return format == null || FORMATS.contains(format) ? null
                : FORMAT_ENV + "=" + format + " is no log format: use text (the default) or json";
    }
}
