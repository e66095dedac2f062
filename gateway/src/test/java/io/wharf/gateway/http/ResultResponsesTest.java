package io.wharf.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.Random;

import org.junit.jupiter.api.Test;

class ResultResponsesTest {
    @Test
    void cpuSecondsReadAsPrintfWouldPrintThem() {
        double[] edges = {0, 0.0005, 0.0015, 0.0025, 0.1235, 0.9995, 1, 12.3456, 1e7, 123456.7895};
        for (double value : edges) {
            assertThat(ResultResponses.seconds(value)).as("%s", value).isEqualTo(String.format(Locale.ROOT, "%.3f", value));
        }
        Random random = new Random(15);
        for (int i = 0; i < 100_000; i++) {
            double value = random.nextInt(4) == 0 ? random.nextInt(100_000) / 10_000.0 : random.nextDouble() * Math.pow(10, random.nextInt(6));
            assertThat(ResultResponses.seconds(value)).as("%s", value).isEqualTo(String.format(Locale.ROOT, "%.3f", value));
        }
    }
}
