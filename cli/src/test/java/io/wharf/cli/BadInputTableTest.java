package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** {@code docs/bad-input.md} names a test for every kind of bad input: each must exist, so the table cannot drift from the suite. */
class BadInputTableTest {
    private static final Pattern TEST = Pattern.compile("`([A-Z][A-Za-z]+)#([a-zA-Z][a-zA-Z0-9]*)`");

    @Test
    void everyKindOfBadInputNamesATestThatExists() throws IOException {
        Path root = Path.of("..");
        Map<String, Path> sources;
        try (Stream<Path> files = Files.walk(root)) {
            sources = files.filter(p -> p.toString().contains("/src/test/java/") && p.toString().endsWith(".java"))
                    .collect(Collectors.toMap(p -> p.getFileName().toString().replace(".java", ""), p -> p, (a, b) -> a));
        }
        List<String> rows = Files.readAllLines(root.resolve("docs/bad-input.md")).stream().filter(l -> l.startsWith("| ") && !l.startsWith("| kind")
                && !l.startsWith("| ---")).toList();
        assertThat(rows).as("kinds of bad input in the table").hasSizeGreaterThanOrEqualTo(30);
        for (String row : rows) {
            Matcher m = TEST.matcher(row);
            assertThat(m.find()).as("a test named in: " + row).isTrue();
            do {
                Path source = sources.get(m.group(1));
                assertThat(source).as("test class " + m.group(1)).isNotNull();
                assertThat(Files.readString(source)).as(m.group(1) + "#" + m.group(2)).containsPattern("void " + m.group(2) + "\\(");
            } while (m.find());
        }
    }
}
