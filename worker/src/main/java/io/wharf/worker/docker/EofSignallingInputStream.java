package io.wharf.worker.docker;

import java.io.ByteArrayInputStream;
import java.util.concurrent.CountDownLatch;

/** A payload stream that tells when its reader has reached the end. */
final class EofSignallingInputStream extends ByteArrayInputStream {
    private final CountDownLatch eof;

    EofSignallingInputStream(byte[] payload, CountDownLatch eof) {
        super(payload);
        this.eof = eof;
    }

    @Override
    public synchronized int read() {
        return signal(super.read());
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) {
        return signal(super.read(b, off, len));
    }

    private int signal(int n) {
        if (n < 0) {
            eof.countDown();
        }
        return n;
    }
}
