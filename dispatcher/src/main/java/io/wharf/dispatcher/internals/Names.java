package io.wharf.dispatcher.internals;

/**
 * The names the topology gives its state stores and sinks, which processors use to reach them. Kept here, below
 * both, so that the processors need not import the topology that builds them.
 */
public final class Names {
    public static final String FUNCTION_STORE = "functions";
    public static final String LIMITS_STORE = "limits";
    public static final String PENDING_STORE = "pending";
    public static final String INFLIGHT_STORE = "inflight";
    public static final String TIMERS_STORE = "timers";
    public static final String DEDUPE_STORE = "dedupe";
    public static final String BATCHES_STORE = "batches";
    public static final String SCHEDULES_STORE = "schedules";
    public static final String SCHEDULE_STATE_STORE = "schedule-state";
    public static final String SCHEDULE_TIMERS_STORE = "schedule-timers";
    /** Global: every instance holds all tenants' limits. */
    public static final String TENANTS_STORE = "tenants";
    public static final String TENANT_LIMITS_STORE = "tenant-limits";
    public static final String TENANT_INFLIGHT_STORE = "tenant-inflight";
    public static final String TENANT_PENDING_STORE = "tenant-pending";
    public static final String TENANT_TIMERS_STORE = "tenant-timers";

    /** Where processors send jobs and results: a {@link StatusTap} before each of the sinks below. */
    public static final String JOBS_SINK = "jobs";
    public static final String RESULTS_SINK = "results";
    public static final String JOBS_OUT = "jobs-out";
    public static final String RESULTS_OUT = "results-out";
    public static final String TENANT_JOBS_OUT = "tenant-jobs-out";
    public static final String TENANT_RESULTS_OUT = "tenant-results-out";
    /** Job states on wharf.status, from the taps and from the dispatcher's own holds, delays and retries. */
    public static final String STATUS_SINK = "status";
    public static final String DLQ_SINK = "dlq";
    /** The sinks behind the {@link MeterTap}s that stand under the names above (and the two other dead-letter ones). */
    public static final String STATUS_OUT = "status-out";
    public static final String DLQ_OUT = "dlq-out";
    public static final String SCHEDULE_DLQ_OUT = "schedule-dlq-out";
    public static final String TENANT_DLQ_OUT = "tenant-dlq-out";
    /** Events moved to their function's partition (another key or another partitioner than Java's). */
    public static final String REKEY_SINK = "rekey";
    /** Function and schedule records moved to the partition of their key. */
    public static final String FUNCTIONS_REROUTE_SINK = "functions-reroute";
    public static final String SCHEDULES_REROUTE_SINK = "schedules-reroute";
    public static final String EVENTS_SINK = "chained-events";
    public static final String SCHEDULED_EVENTS_SINK = "scheduled-events";
    public static final String SCHEDULE_DLQ_SINK = "schedule-dlq";
    public static final String TENANT_SINK = "to-tenant-stage";
    public static final String TENANT_JOBS_SINK = "tenant-jobs";
    public static final String TENANT_RESULTS_SINK = "tenant-results";
    public static final String TENANT_ATTEMPTS_SINK = "tenant-attempts";
    public static final String TENANT_DLQ_SINK = "tenant-dlq";

    private Names() {
    }
}
