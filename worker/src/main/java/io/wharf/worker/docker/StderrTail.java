package io.wharf.worker.docker;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** The last bytes of a stderr stream, for a failed job's result, kept in bounded memory. Not thread-safe. */
final class StderrTail {
    private final int bytes;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

    StderrTail(int bytes) {
        this.bytes = bytes;
    }

    void add(byte[] chunk) {
        kept.writeBytes(chunk);
        if (kept.size() > 4 * bytes) { // trim now and then, not on every chunk
            byte[] all = kept.toByteArray();
            kept.reset();
            kept.write(all, all.length - bytes, bytes);
        }
    }

    /** The last {@code bytes} written, decoded as UTF-8; empty if nothing was. */
    String text() {
        byte[] all = kept.toByteArray();
        int from = Math.max(0, all.length - bytes);
        return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    }
}
