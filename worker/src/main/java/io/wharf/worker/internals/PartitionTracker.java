package io.wharf.worker.internals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * Offsets of one partition that are taken but not finished, and those finished above the lowest unfinished
 * one. The committable offset is one past the highest offset below which every job is done, so a commit never
 * skips an unfinished job. Jobs that finish out of order, above that point, are listed in the commit's metadata
 * ({@link #metadata}); a new owner reads that list ({@link #skipping}) and does not run them again, so their
 * results, committed in the same transaction, stay the only ones.
 *
 * <p>The metadata also lists the jobs running now, and the crashes each unfinished job has seen: a new owner
 * that finds a job listed as running knows its previous owner died while running it (a clean stop or revoke
 * clears the list first), and counts a crash ({@link #crashes}), so that a job that kills every worker it runs on
 * can be stopped after a few. Used by the poll-loop thread only.
 */
public final class PartitionTracker {
    /** Offset metadata is limited by the broker (offset.metadata.max.bytes, 4096 by default). */
    static final int MAX_METADATA_CHARS = 4000;
    /** Of which the running and crashed jobs may take this much (about a hundred of them); the finished ones the rest. */
    static final int MAX_CRASH_CHARS = 600;
    private static final int MAX_DONE_CHARS = MAX_METADATA_CHARS - MAX_CRASH_CHARS;
    private static final String PREFIX = "wharf1:";
    private static final char CRASHES = '|';
    private static final char RUNNING = '~';
    private static final char CRASHED = '=';

    private final TreeSet<Long> pending = new TreeSet<>();
    private final TreeSet<Long> doneAbove = new TreeSet<>();
    private final TreeSet<Long> running = new TreeSet<>();
    /** Unfinished offsets and how many owners died while running them. */
    private final Map<Long, Integer> crashes = new HashMap<>();
    private boolean runningChanged;
    private long lastStartedAt;
    private long runningChangedAt;
    private long next = -1;
    private long committed = -1;
    private String committedMetadata = "";

    /** A tracker for a partition whose committed position is {@code position} with that commit's {@code metadata}. */
    public static PartitionTracker skipping(long position, String metadata) {
        PartitionTracker tracker = new PartitionTracker();
        tracker.next = position;
        tracker.committed = position;
        tracker.committedMetadata = metadata == null ? "" : metadata;
        if (metadata != null && metadata.startsWith(PREFIX) && metadata.length() > PREFIX.length()) {
            String[] parts = metadata.substring(PREFIX.length()).split("\\" + CRASHES, 2);
            for (String delta : parts[0].split(",")) {
                try {
                    tracker.doneAbove.add(position + Long.parseLong(delta, Character.MAX_RADIX));
                } catch (NumberFormatException e) {
                    // not ours: ignore
                }
            }
            if (parts.length > 1) {
                tracker.readCrashes(position, parts[1]);
            }
        }
        return tracker;
    }

    /** {@code delta~n}: was running, after n crashes, when its owner died (one more); {@code delta=n}: n crashes so far. */
    private void readCrashes(long position, String entries) {
        for (String entry : entries.split(",")) {
            int at = Math.max(entry.indexOf(RUNNING), entry.indexOf(CRASHED));
            try {
                long offset = position + Long.parseLong(entry.substring(0, at), Character.MAX_RADIX);
                int count = Integer.parseInt(entry.substring(at + 1)) + (entry.charAt(at) == RUNNING ? 1 : 0);
                crashes.put(offset, count);
            } catch (RuntimeException e) {
                // not ours: ignore
            }
        }
    }

    /** How many owners of this partition died while running the job at {@code offset}. */
    public int crashes(long offset) {
        return crashes.getOrDefault(offset, 0);
    }

    /** The job at {@code offset} is running here now ({@code nanoTime} of its start): the next commit says so. */
    public void started(long offset, long nanoTime) {
        running.add(offset);
        lastStartedAt = nanoTime;
        changed(nanoTime);
    }

    /** Whether jobs run here and the last one to start did so at or after {@code nanoTime} (it may have finished: a bound, not a promise). */
    public boolean runningSince(long nanoTime) {
        return !running.isEmpty() && lastStartedAt - nanoTime >= 0;
    }

    private void changed(long nanoTime) {
        if (!runningChanged) {
            runningChanged = true;
            runningChangedAt = nanoTime;
        }
    }

    /**
     * This worker stops running the jobs it runs (a revoke, a shutdown), so none of them is a crash: the next commit
     * no longer lists them as running.
     */
    public void stopping() {
        if (!running.isEmpty()) {
            running.clear();
            runningUntold(); // the stop's commit must carry it
        }
    }

    /**
     * Whether the jobs running changed at least {@code delayNanos} before {@code now} and no commit has told it since: a
     * commit is due even with no result. Quick jobs finish within the delay and are told by their result's commit.
     */
    public boolean runningUntoldFor(long delayNanos, long now) {
        return runningChanged && (runningChangedAt == Long.MIN_VALUE || now - runningChangedAt >= delayNanos);
    }

    /** Whether the partition's previous owner finished this offset (listed in the committed metadata). */
    public boolean finishedEarlier(long offset) {
        return doneAbove.contains(offset);
    }

    /** Records that the job at {@code offset} was taken; false if it is already done (finished by an earlier owner). */
    public boolean taken(long offset) {
        next = Math.max(next, offset + 1);
        if (doneAbove.contains(offset)) {
            return false;
        }
        pending.add(offset);
        return true;
    }

    public void done(long offset) {
        pending.remove(offset);
        running.remove(offset);
        crashes.remove(offset);
        doneAbove.add(offset);
        prune();
    }

    /** Undoes {@link #done} after a transaction that carried it was aborted. */
    public void undone(long offset) {
        doneAbove.remove(offset);
        pending.add(offset);
    }

    /**
     * Whether the job at {@code offset} may be taken: once it and every job taken between it and the oldest unfinished
     * one have finished, the commit metadata must still list them all. Otherwise a job finished and committed could
     * drop off the list as others finish below it, and the partition's next owner would run it again.
     */
    public boolean hasRoomFor(long offset) {
        long span = offset - committable();
        if (pending.isEmpty() || span <= 0) {
            return true;
        }
        long width = Long.toString(span, Character.MAX_RADIX).length() + 1;
        return PREFIX.length() + span * width <= MAX_DONE_CHARS;
    }

    /** The offset to commit, or -1 if nothing was ever taken. */
    public long committable() {
        return pending.isEmpty() ? next : pending.first();
    }

    /** Finished offsets at or above the committable one that fit in the commit metadata. */
    public List<Long> encodable() {
        long base = committable();
        List<Long> out = new ArrayList<>();
        int chars = PREFIX.length();
        for (long offset : doneAbove.tailSet(base, true)) {
            int len = Long.toString(offset - base, Character.MAX_RADIX).length() + 1;
            if (chars + len > MAX_DONE_CHARS) {
                break;
            }
            chars += len;
            out.add(offset);
        }
        return out;
    }

    /**
     * The commit metadata listing {@code done} offsets (from {@link #encodable}), then the running and crashed jobs, relative
     * to the committable offset. Preparing it marks the running jobs as told.
     */
    public String metadata(List<Long> done) {
        long base = committable();
        StringBuilder s = new StringBuilder(PREFIX);
        for (int i = 0; i < done.size(); i++) {
            s.append(i == 0 ? "" : ",").append(Long.toString(done.get(i) - base, Character.MAX_RADIX));
        }
        TreeSet<Long> told = new TreeSet<>(running);
        told.addAll(crashes.keySet());
        int start = s.length();
        for (long offset : told) {
            String entry = Long.toString(offset - base, Character.MAX_RADIX) + (running.contains(offset) ? RUNNING : CRASHED) + crashes(offset);
            if (s.length() - start + entry.length() + 2 > MAX_CRASH_CHARS) {
                break; // more jobs running on one partition than the list holds: the rest are not counted if this worker dies
            }
            // ",|" opens the list: a worker of the version before it reads the finished offsets and skips the rest.
            s.append(s.length() == start ? "," + CRASHES : ",").append(entry);
        }
        runningChanged = false;
        return s.toString();
    }

    /** After a transaction that carried the running jobs was aborted: tell them again, at once. */
    public void runningUntold() {
        runningChanged = true;
        runningChangedAt = Long.MIN_VALUE;
    }

    /** Whether a commit of {@code position} with {@code metadata} would add nothing to the last one. */
    public boolean isCommitted(long position, String metadata) {
        return position <= committed && metadata.equals(committedMetadata);
    }

    public void committed(long offset, String metadata) {
        if (offset >= committed) {
            committed = offset;
            committedMetadata = metadata == null ? "" : metadata;
        }
    }

    public int inFlight() {
        return pending.size();
    }

    private void prune() {
        NavigableSet<Long> below = doneAbove.headSet(committable(), false);
        below.clear();
    }
}
