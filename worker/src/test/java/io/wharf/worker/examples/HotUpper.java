package io.wharf.worker.examples;

import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.FileReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A hot function in Java: upper-cases each payload. Run it as the image's command; Wharf sets
 * {@code WHARF_HOT_IN} and {@code WHARF_HOT_OUT}. The worker README quotes this file.
 */
public final class HotUpper {
    public static void main(String[] args) throws IOException {
        serve(System.getenv("WHARF_HOT_IN"), System.getenv("WHARF_HOT_OUT"));
    }

    static void serve(String inPath, String outPath) throws IOException {
        // Open "in" first, then "out": the worker opens them in the same order.
        try (BufferedReader in = new BufferedReader(new FileReader(inPath, StandardCharsets.US_ASCII));
             PrintStream out = new PrintStream(new FileOutputStream(outPath), true, StandardCharsets.US_ASCII)) {
            for (String line; (line = in.readLine()) != null; ) {
                int space = line.indexOf(' ');
                String jobId = line.substring(0, space);
                byte[] payload = Base64.getDecoder().decode(line.substring(space + 1));
                byte[] result = new String(payload, StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8);
                out.println(jobId + " 0 " + Base64.getEncoder().encodeToString(result));
            }
        }
    }
}
