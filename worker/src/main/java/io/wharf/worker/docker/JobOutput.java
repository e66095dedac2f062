package io.wharf.worker.docker;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;

import io.wharf.worker.runtime.OutputListener;

/**
 * A fresh container's output, read twice: followed while it runs ({@link Live}, lines reach the listener as they
 * are written) and read whole after the exit ({@link Final}: the body, the stderr tail, and what the follow missed).
 */
final class JobOutput {
    /** The end of stderr a failed result carries. */
    static final int STDERR_TAIL_BYTES = 4096;

    private JobOutput() {
    }

    /** Passes output on while the container runs, counting what it passed per stream. */
    static final class Live extends ResultCallback.Adapter<Frame> {
        private final OutputListener listener;
        private long stdoutBytes;
        private long stderrBytes;

        Live(OutputListener listener) {
            this.listener = listener;
        }

        @Override
        public synchronized void onNext(Frame frame) {
            boolean isStderr = frame.getStreamType() == StreamType.STDERR;
            byte[] bytes = frame.getPayload();
            if (isStderr) {
                stderrBytes += bytes.length;
            } else {
                stdoutBytes += bytes.length;
            }
            listener.onOutput(isStderr, bytes);
        }
    }

    /**
     * Reads the whole output after the exit: keeps the start of stdout (the result body) and the end of stderr,
     * and passes on whatever lies beyond what {@link Live} already passed.
     */
    static final class Final extends ResultCallback.Adapter<Frame> {
        private final int maxBody;
        private final OutputListener listener;
        private long stdoutSkip;
        private long stderrSkip;
        private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        private final StderrTail stderr = new StderrTail(STDERR_TAIL_BYTES);
        private boolean truncated;

        Final(int maxBody, Live live, OutputListener listener) {
            this.maxBody = maxBody;
            this.listener = listener;
            synchronized (live) {
                this.stdoutSkip = live.stdoutBytes;
                this.stderrSkip = live.stderrBytes;
            }
        }

        @Override
        public synchronized void onNext(Frame frame) {
            byte[] bytes = frame.getPayload();
            if (frame.getStreamType() == StreamType.STDERR) {
                stderr.add(bytes);
                stderrSkip = passBeyond(true, bytes, stderrSkip);
            } else {
                int room = maxBody - stdout.size();
                if (bytes.length > room) {
                    truncated = true;
                }
                stdout.write(bytes, 0, Math.max(0, Math.min(room, bytes.length)));
                stdoutSkip = passBeyond(false, bytes, stdoutSkip);
            }
        }

        private long passBeyond(boolean isStderr, byte[] bytes, long skip) {
            if (skip >= bytes.length) {
                return skip - bytes.length;
            }
            listener.onOutput(isStderr, Arrays.copyOfRange(bytes, (int) skip, bytes.length));
            return 0;
        }

        synchronized byte[] stdout() {
            return stdout.toByteArray();
        }

        synchronized boolean truncated() {
            return truncated;
        }

        synchronized String stderrTail() {
            return stderr.text();
        }
    }
}
