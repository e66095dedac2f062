package io.wharf.worker.internals;

/**
 * A job's run on its own thread, which the poll loop can abandon (partition revoked, worker stopping). Unlike
 * {@code Future.cancel}, abandoning never keeps the body from running: a task abandoned before its thread started
 * still runs, interrupted from its first line, so it always hands its completion back and the loop's count of
 * running jobs stays true (a task that never ran would hold its slot for good).
 */
public final class JobTask implements Runnable {
    private final Runnable body;
    private volatile Thread thread;
    private volatile boolean abandoned;
    private volatile boolean done;

    public JobTask(Runnable body) {
        this.body = body;
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        if (abandoned) {
            Thread.currentThread().interrupt();
        }
        try {
            body.run();
        } finally {
            done = true;
        }
    }

    /** Interrupts the run, now or as soon as it starts. */
    public void abandon() {
        abandoned = true;
        Thread running = thread;
        if (running != null && !done) {
            running.interrupt();
        }
    }

    public boolean done() {
        return done;
    }
}
