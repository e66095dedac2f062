package io.wharf.worker.docker;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;

import io.wharf.worker.runtime.OutputListener;

/**
 * A warm container's stdout and stderr, followed once for its whole life and handed to the job that was running
 * when each line was written. The engine stamps every line as it receives it ({@code timestamps=true}); a line
 * belongs to the latest job started before its stamp. Lines may trail a job's answer on the FIFO, so a job's
 * output ends when a line of a later job arrives, when the job after the next one starts, or when the container
 * goes (stamps come in order).
 */
final class HotOutput extends ResultCallback.Adapter<Frame> {
    private record Window(Instant startedAt, OutputListener listener) {
    }

    private final ArrayDeque<Window> windows = new ArrayDeque<>();

    /**
     * Call just before the job is written to the container: its lines are stamped after this. The job before it
     * stays open for lines still on their way; older ones end here, so a silent function holds no more than two.
     */
    synchronized void jobStarted(OutputListener listener) {
        while (windows.size() > 1) {
            windows.removeFirst().listener().onEnd();
        }
        windows.addLast(new Window(Instant.now(), listener));
    }

    @Override
    public synchronized void onNext(Frame frame) {
        boolean stderr = frame.getStreamType() == StreamType.STDERR;
        byte[] payload = frame.getPayload();
        int space = indexOf(payload, (byte) ' ');
        Instant stamp;
        try {
            stamp = space < 0 ? null : Instant.parse(new String(payload, 0, space, StandardCharsets.US_ASCII));
        } catch (DateTimeParseException e) {
            stamp = null;
        }
        byte[] line = stamp == null ? payload : Arrays.copyOfRange(payload, space + 1, payload.length);
        OutputListener listener = listenerAt(stamp);
        if (listener != null) {
            listener.onOutput(stderr, line);
        }
    }

    /** The job running at {@code stamp} (the latest one for an unstamped line); earlier jobs' output is over. */
    private OutputListener listenerAt(Instant stamp) {
        while (windows.size() > 1 && stamp != null) {
            Iterator<Window> it = windows.iterator();
            it.next();
            if (!it.next().startedAt().isBefore(stamp)) { // a tie stays with the earlier job
                break;
            }
            windows.removeFirst().listener().onEnd();
        }
        if (stamp == null) {
            Window latest = windows.peekLast();
            return latest == null ? null : latest.listener();
        }
        Window current = windows.peekFirst();
        return current == null || current.startedAt().isAfter(stamp) ? null : current.listener();
    }

    @Override
    public void onComplete() {
        end();
        super.onComplete();
    }

    @Override
    public void onError(Throwable throwable) {
        end();
        super.onError(throwable);
    }

    /** The container is gone: every job's output is complete. */
    synchronized void end() {
        while (!windows.isEmpty()) {
            windows.removeFirst().listener().onEnd();
        }
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
