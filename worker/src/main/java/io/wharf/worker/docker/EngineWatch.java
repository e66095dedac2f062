package io.wharf.worker.docker;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import com.github.dockerjava.api.DockerClient;

import io.wharf.worker.runtime.ContainerRunner.RuntimeUnavailableException;
import io.wharf.worker.runtime.RunOutcome;

/**
 * Tells a run the engine cut short (the engine stopped or restarted under it) from one the job ended itself. The
 * engine's event stream, which the runner follows, ends when the engine goes away: each end is a new epoch. A run
 * that failed on an engine error, or ended by a signal an engine sends its containers as it stops, while the epoch
 * changed or the engine stopped answering, was cut short by the engine.
 */
final class EngineWatch {
    /** How long a run killed by a signal not ours waits to learn whether the engine is stopping. */
    private static final Duration SETTLE = Duration.ofSeconds(2);

    private final DockerClient docker;
    private final AtomicLong epoch = new AtomicLong();

    EngineWatch(DockerClient docker) {
        this.docker = docker;
    }

    long epoch() {
        return epoch.get();
    }

    /** The event stream ended: the engine went away (or is going). */
    void lost() {
        epoch.incrementAndGet();
    }

    /**
     * Whether the engine, not the job, ended the run that started in {@code since}. Only a run that failed on an engine
     * error, or ended by a signal Wharf did not send, can have been: a job that exited by itself is never run again.
     */
    boolean cutShort(RunOutcome outcome, long since) throws InterruptedException {
        Integer exit = outcome.exitCode();
        boolean engineError = outcome.error() != null && exit == null;
        boolean signalled = !outcome.timedOut() && !outcome.oomKilled() && exit != null && (exit == 137 || exit == 143);
        if (!engineError && !signalled) {
            return false;
        }
        if (epoch.get() != since || !answers()) {
            return true;
        }
        if (engineError) {
            return false;
        }
        // SIGTERM or SIGKILL, not from us: an engine stopping sends those, and stops answering (its stream ends) soon after.
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (System.nanoTime() < deadline) {
            Thread.sleep(100);
            if (epoch.get() != since || !answers()) {
                return true;
            }
        }
        return false;
    }

    /** Waits until the engine answers again, up to {@code timeout}. */
    void awaitBack(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!answers()) {
            if (System.nanoTime() > deadline) {
                throw new RuntimeUnavailableException("The Docker engine has not answered for " + timeout.toSeconds() + " s");
            }
            Thread.sleep(500);
        }
    }

    boolean answers() {
        try {
            docker.pingCmd().exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
