package io.wharf.client;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsing of the sizes (64m, 1g), rates (10/s) and durations (500ms, 10s, 2m, 1h) people write in flags and files. */
public final class Units {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmg]?)i?b?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)", Pattern.CASE_INSENSITIVE);

    private Units() {
    }

    /** A byte size such as 512k, 6m or 1g (plain digits are bytes), at most 2 GiB - 1. */
    public static int bytes(String option, String value) {
        Matcher m = SIZE.matcher(value.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a size: use e.g. 512k or 6m");
        }
        long n = Long.parseLong(m.group(1));
        long bytes = switch (m.group(2).toLowerCase()) {
            case "k" -> n * 1024;
            case "m" -> n * 1024 * 1024;
            case "g" -> n * 1024 * 1024 * 1024;
            default -> n;
        };
        if (bytes < 1 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(option + " '" + value + "' is out of range: 1 byte to 2047m");
        }
        return (int) bytes;
    }

    /** A memory size such as 64m or 1g in MiB (plain digits are MiB), at least 6m. */
    public static int megabytes(String option, String value) {
        Matcher m = SIZE.matcher(value.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a size: use e.g. 64m or 1g");
        }
        long n = Long.parseLong(m.group(1));
        long mb = switch (m.group(2).toLowerCase()) {
            case "k" -> Math.max(1, n / 1024);
            case "g" -> n * 1024;
            default -> n;
        };
        if (mb < 6 || mb > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(option + " '" + value + "' is out of range: at least 6m");
        }
        return (int) mb;
    }

    private static final Pattern RATE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(?:/\\s*(s|m|h))?", Pattern.CASE_INSENSITIVE);

    /** A rate such as 10, 10/s, 30/m or 100/h, in events per second. */
    public static double perSecond(String option, String value) {
        Matcher m = RATE.matcher(value.strip());
        if (!m.matches() || Double.parseDouble(m.group(1)) <= 0) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a rate: use e.g. 10/s, 30/m or 100/h");
        }
        double n = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase();
        return switch (unit) {
            case "m" -> n / 60.0;
            case "h" -> n / 3600.0;
            default -> n;
        };
    }

    /** A duration such as 500ms, 10s, 2m or 1h. */
    public static Duration duration(String option, String value) {
        Matcher m = DURATION.matcher(value.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(option + " '" + value + "' is not a duration: use e.g. 500ms, 10s, 2m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase()) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}
