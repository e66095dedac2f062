package io.wharf.worker.internals;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * Offsets of one partition that are taken but not finished, and those finished above the lowest unfinished
 * one. The committable offset is one past the highest offset below which every job is done, so a commit never
 * skips an unfinished job. Jobs that finish out of order, above that point, are listed in the commit's metadata
 * ({@link #metadata}); a new owner reads that list ({@link #skipping}) and does not run them again, so their
 * results, committed in the same transaction, stay the only ones. Used by the poll-loop thread only.
 */
public final class PartitionTracker {
    /** Offset metadata is limited by the broker (offset.metadata.max.bytes, 4096 by default). */
    static final int MAX_METADATA_CHARS = 3500;
    private static final String PREFIX = "wharf1:";

    private final TreeSet<Long> pending = new TreeSet<>();
    private final TreeSet<Long> doneAbove = new TreeSet<>();
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
            for (String delta : metadata.substring(PREFIX.length()).split(",")) {
                try {
                    tracker.doneAbove.add(position + Long.parseLong(delta, Character.MAX_RADIX));
                } catch (NumberFormatException e) {
                    // not ours: ignore
                }
            }
        }
        return tracker;
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
        return PREFIX.length() + span * width <= MAX_METADATA_CHARS;
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
            if (chars + len > MAX_METADATA_CHARS) {
                break;
            }
            chars += len;
            out.add(offset);
        }
        return out;
    }

    /** The commit metadata listing {@code done} offsets (from {@link #encodable}) relative to the committable offset. */
    public String metadata(List<Long> done) {
        long base = committable();
        StringBuilder s = new StringBuilder(PREFIX);
        for (int i = 0; i < done.size(); i++) {
            s.append(i == 0 ? "" : ",").append(Long.toString(done.get(i) - base, Character.MAX_RADIX));
        }
        return s.toString();
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
