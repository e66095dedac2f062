package io.wharf.dispatcher.internals;

import io.wharf.records.Job;
import io.wharf.topics.TopicLimits;
import io.wharf.topics.Topics;

/**
 * How long a concurrency slot taken for a job is held at most: until its attempt's report can no longer come. The
 * job record lives until its pool topic's retention deletes it (or, past its deadline, is refused as expired by
 * the worker that takes it), then runs at most its timeout; the margin covers a worker's drain and last commit.
 */
final class SlotLeases implements Admission.Leases {
    /** Beyond a job's retention or deadline and its timeout: a worker's drain (30 s by default) and its last commit. */
    static final long MARGIN_MILLIS = 120_000;

    private final TopicLimits limits;

    SlotLeases(TopicLimits limits) {
        this.limits = limits;
    }

    @Override
    public long end(Job job, long now) {
        long untaken = limits.retentionMillis(Topics.jobs(job.getFunction().getPool()));
        if (job.getDeadline() != null) {
            untaken = Math.min(untaken, Math.max(0, job.getDeadline().toEpochMilli() - now));
        }
        long end = now + untaken + job.getFunction().getTimeoutMillis() + MARGIN_MILLIS;
        return end < now ? Long.MAX_VALUE : end;
    }
}
