package io.wharf.worker.internals;

import java.util.TreeSet;

/**
 * Offsets of one partition that are taken but not finished. The committable offset is one past the highest
 * offset below which every job is done, so a commit never skips an unfinished job, however the jobs of a
 * partition overtake each other. Used by the poll-loop thread only.
 */
public final class PartitionTracker {
    private final TreeSet<Long> pending = new TreeSet<>();
    private long next = -1;
    private long committed = -1;

    public void taken(long offset) {
        pending.add(offset);
        next = Math.max(next, offset + 1);
    }

    public void done(long offset) {
        pending.remove(offset);
    }

    /** Undoes {@link #done} after a transaction that carried it was aborted. */
    public void undone(long offset) {
        pending.add(offset);
    }

    /** The offset to commit, or -1 if nothing was ever taken. */
    public long committable() {
        return pending.isEmpty() ? next : pending.first();
    }

    public boolean hasUncommitted() {
        long c = committable();
        return c > committed;
    }

    public void committed(long offset) {
        committed = Math.max(committed, offset);
    }

    public int inFlight() {
        return pending.size();
    }
}
