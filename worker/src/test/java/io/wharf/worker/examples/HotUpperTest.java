package io.wharf.worker.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.FileReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java hot function speaks the protocol, through a real FIFO pair as a worker opens it. */
class HotUpperTest {
    @Test
    void shouldAnswerEachJobOnItsLine(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in");
        Path out = dir.resolve("out");
        for (Path fifo : new Path[] {in, out}) {
            assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        }
        Thread function = Thread.ofPlatform().start(() -> {
            try {
                HotUpper.serve(in.toString(), out.toString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try (FileOutputStream toFunction = new FileOutputStream(in.toFile());
             BufferedReader fromFunction = new BufferedReader(new FileReader(out.toFile(), StandardCharsets.US_ASCII))) {
            for (String text : new String[] {"hello", "grüße", ""}) {
                String b64 = Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
                toFunction.write(("job-" + text.length() + " " + b64 + "\n").getBytes(StandardCharsets.US_ASCII));
                toFunction.flush();
                String[] reply = fromFunction.readLine().split(" ", 3);
                assertThat(reply[0]).isEqualTo("job-" + text.length());
                assertThat(reply[1]).isEqualTo("0");
                assertThat(new String(Base64.getDecoder().decode(reply.length > 2 ? reply[2] : ""), StandardCharsets.UTF_8))
                        .isEqualTo(text.toUpperCase());
            }
        }
        function.join(5000);
        assertThat(Files.exists(in)).isTrue();
    }
}
