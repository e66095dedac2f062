package io.wharf.testkit;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a Prometheus text scrape the way a user's query would: a sample by name and labels. */
public final class Scrape {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private Scrape() {
    }

    /** The sum of the samples of {@code name} whose labels include {@code labels}; NaN when there is none. */
    public static double value(String scrape, String name, Map<String, String> labels) {
        double sum = 0;
        boolean found = false;
        for (String line : scrape.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.find() || !m.group(1).equals(name)) {
                continue;
            }
            Map<String, String> present = new java.util.HashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    present.put(l.group(1), l.group(2));
                }
            }
            if (present.entrySet().containsAll(labels.entrySet())) {
                sum += Double.parseDouble(m.group(4));
                found = true;
            }
        }
        return found ? sum : Double.NaN;
    }

    /** As {@link #value(String, String, Map)} with no label to match. */
    public static double value(String scrape, String name) {
        return value(scrape, name, Map.of());
    }
}
