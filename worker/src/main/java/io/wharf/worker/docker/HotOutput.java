package io.wharf.worker.docker;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
    /** One job's share of the output: its listener, and the end of its stderr for the result of a failure. */
    final class Job {
        private final Instant startedAt = Instant.now();
        private final OutputListener listener;
        private final StderrTail stderr = new StderrTail(tailBytes);

        private Job(OutputListener listener) {
            this.listener = listener;
        }

        /**
         * The end of the job's stderr (null if it wrote none), after waiting up to {@code settle} for lines still
         * on their way: the engine delivers them after the job's answer on the FIFO, and a line stamped after now
         * shows that everything before it has come.
         */
        String stderrTail(Duration settle) {
            Instant asked = Instant.now();
            long deadline = System.nanoTime() + settle.toNanos();
            synchronized (HotOutput.this) {
                while ((lastStamp == null || !lastStamp.isAfter(asked)) && System.nanoTime() < deadline) {
                    try {
                        HotOutput.this.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                String tail = stderr.text();
                return tail.isEmpty() ? null : tail;
            }
        }

        private void take(boolean isStderr, byte[] line) {
            if (isStderr) {
                stderr.add(line);
            }
            listener.onOutput(isStderr, line);
        }
    }

    private final ArrayDeque<Job> windows = new ArrayDeque<>();
    private final int tailBytes;
    private Instant lastStamp;

    HotOutput(int tailBytes) {
        this.tailBytes = tailBytes;
    }

    /**
     * Call just before the job is written to the container: its lines are stamped after this. The job before it
     * stays open for lines still on their way; older ones end here, so a silent function holds no more than two.
     */
    synchronized Job jobStarted(OutputListener listener) {
        while (windows.size() > 1) {
            windows.removeFirst().listener.onEnd();
        }
        Job job = new Job(listener);
        windows.addLast(job);
        return job;
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
        Job job = jobAt(stamp);
        if (job != null) {
            job.take(stderr, line);
        }
        if (stamp != null) {
            lastStamp = stamp;
            notifyAll();
        }
    }

    /** The job running at {@code stamp} (the latest one for an unstamped line); earlier jobs' output is over. */
    private Job jobAt(Instant stamp) {
        while (windows.size() > 1 && stamp != null) {
            Iterator<Job> it = windows.iterator();
            it.next();
            if (!it.next().startedAt.isBefore(stamp)) { // a tie stays with the earlier job
                break;
            }
            windows.removeFirst().listener.onEnd();
        }
        if (stamp == null) {
            return windows.peekLast();
        }
        Job current = windows.peekFirst();
        return current == null || current.startedAt.isAfter(stamp) ? null : current;
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
            windows.removeFirst().listener.onEnd();
        }
        lastStamp = Instant.MAX; // nothing more will come: no one waits for it
        notifyAll();
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
