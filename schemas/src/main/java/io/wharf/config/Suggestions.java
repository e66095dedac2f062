package io.wharf.config;

import java.util.Collection;
import java.util.Comparator;

import org.apache.commons.text.similarity.LevenshteinDistance;

/** "Did you mean" for a misspelt setting: the closest valid name, when one is close enough to be a typo. */
public final class Suggestions {
    private static final LevenshteinDistance DISTANCE = LevenshteinDistance.getDefaultInstance();

    private Suggestions() {
    }

    /** {@code "; did you mean X?"}, or {@code ""} when no name is within a third of {@code given}'s length. */
    public static String closest(String given, Collection<String> valid) {
        return valid.stream()
                .min(Comparator.comparingInt((String name) -> DISTANCE.apply(given, name)).thenComparing(Comparator.naturalOrder()))
                .filter(name -> DISTANCE.apply(given, name) <= Math.max(2, given.length() / 3))
                .map(name -> "; did you mean " + name + "?")
                .orElse("");
    }
}
