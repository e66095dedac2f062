package io.wharf.worker.docker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The answers of the hot protocol, read as a function writes them and never trusted: {@code JOB_ID SP EXIT_CODE
 * [SP STDOUT_BASE64] LF}. A line is kept up to what the function's body cap needs (longer stdout is cut, as a fresh
 * container's is, and the rest of the line skipped without holding it), so one function cannot exhaust the worker's
 * memory; a line that does not parse, or answers another job, is {@link Broken} and its container replaced.
 */
final class HotFraming {
    /** Room for a job id, an exit code and the separators beside the base64 of the body. */
    private static final int SLACK = 512;

    private HotFraming() {
    }

    /** A line that breaks the protocol: the container that wrote it is not trusted with another job. */
    static final class Broken extends Exception {
        Broken(String reason) {
            super(reason);
        }
    }

    /** One answer: the exit code and stdout, cut at the body cap (then {@code truncated}). */
    record Answer(int exitCode, byte[] stdout, boolean truncated) {
    }

    /** The most bytes of a line kept for a body cap of {@code maxBodyBytes}. */
    static int maxLineBytes(int maxBodyBytes) {
        return SLACK + (maxBodyBytes + 2) / 3 * 4;
    }

    /** A line read up to its LF, the first {@code max} bytes kept and the rest skipped; null at end of stream. */
    record Line(byte[] bytes, boolean cut) {
    }

    static Line readLine(InputStream in, int max) throws IOException {
        ByteArrayOutputStream kept = new ByteArrayOutputStream(Math.min(max, 8192));
        boolean cut = false;
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                return new Line(kept.toByteArray(), cut);
            }
            if (kept.size() < max) {
                kept.write(b);
            } else {
                cut = true;
            }
        }
        return null; // the pipe closed mid-line or before one: the container is gone or gave up
    }

    /** The answer {@code line} gives to job {@code jobId}. */
    static Answer parse(String jobId, Line line, int maxBodyBytes) throws Broken {
        String text = new String(line.bytes(), StandardCharsets.US_ASCII);
        int first = text.indexOf(' ');
        if (first < 0) {
            throw new Broken("its warm container answered job " + jobId + " with a line that is not JOB_ID EXIT_CODE STDOUT_BASE64: "
                    + abbreviate(text));
        }
        String id = text.substring(0, first);
        if (!id.equals(jobId)) {
            throw new Broken("its warm container answered job " + abbreviate(id) + " when job " + jobId + " was asked");
        }
        int second = text.indexOf(' ', first + 1);
        String code = second < 0 ? text.substring(first + 1) : text.substring(first + 1, second);
        int exitCode;
        try {
            exitCode = Integer.parseInt(code);
        } catch (NumberFormatException e) {
            throw new Broken("its warm container answered job " + jobId + " with exit code '" + abbreviate(code) + "', not a number");
        }
        if (exitCode < 0 || exitCode > 255) {
            throw new Broken("its warm container answered job " + jobId + " with exit code " + exitCode + ", outside 0 to 255");
        }
        if (second < 0) {
            return new Answer(exitCode, new byte[0], false);
        }
        String body = text.substring(second + 1).strip();
        boolean cut = line.cut();
        if (cut) {
            body = body.substring(0, body.length() - body.length() % 4); // whole base64 quanta of what was kept
        }
        byte[] stdout;
        try {
            stdout = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new Broken("its warm container answered job " + jobId + " with stdout that is not base64: " + e.getMessage());
        }
        boolean truncated = cut || stdout.length > maxBodyBytes;
        return new Answer(exitCode, stdout.length > maxBodyBytes ? java.util.Arrays.copyOf(stdout, maxBodyBytes) : stdout, truncated);
    }

    private static String abbreviate(String text) {
        String printable = text.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() <= 80 ? printable : printable.substring(0, 80) + "...";
    }
}
