package io.wharf.worker.docker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A warm container's {@code $WHARF_HOT_REQUEST}: the running job's HTTP request as a script to source, rewritten before
 * each job. Kept open, and left as it is when the next job's script is the same (jobs that came from Kafka have an
 * empty one), so a hot job costs no file opening in a directory the container shares.
 */
final class RequestScript implements AutoCloseable {
    private final FileChannel file;
    private byte[] written;

    RequestScript(Path path) throws IOException {
        file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** Makes the file hold {@code script}, before the container is told to read it. */
    void write(String script) throws IOException {
        byte[] bytes = script.getBytes(StandardCharsets.UTF_8);
        if (Arrays.equals(bytes, written)) {
            return;
        }
        written = null; // a failed write leaves it unknown
        file.truncate(0);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        for (long position = 0; buffer.hasRemaining(); ) {
            position += file.write(buffer, position);
        }
        written = bytes;
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (IOException e) {
            // the directory goes with its container
        }
    }
}
