package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.Attempt;
import io.wharf.records.DeadLetter;
import io.wharf.records.Job;
import io.wharf.records.JobResult;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.AvroSerializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.topics.TopicLimits;

/**
 * The tenant stage: jobs of tenants with limits come here (keyed by tenant) once their function's limits let
 * them out, so one task owns each tenant's token bucket, running count and held jobs across all its functions,
 * whichever partitions those live on. Finished-attempt notices from the function stage free slots. A job
 * refused here is reported on {@code wharf.attempts} as well as {@code wharf.results}, so that its function's
 * task frees its slot and completes its fan-out as for any final result. A slot whose notice never comes is freed
 * when its lease ends ({@link SlotLeases}), by a timer of this stage's own.
 */
public final class TenantProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger log = LoggerFactory.getLogger(TenantProcessor.class);
    static final String KIND_HEADER = "wharf-kind";
    private static final byte[] FINISHED = "finished".getBytes(StandardCharsets.UTF_8);

    private final AvroDeserializer<Job> jobReader;
    private final AvroSerializer<Job> jobWriter;
    private final SchemaRegistryClient registry;
    private final Duration tick;
    private final TopicLimits limits;
    private ProcessorContext<String, Object> context;
    private Timers timers;
    private Admission admission;
    private TenantLimits tenants;
    private Wakeup wakeup;

    private final Admission.Outlet outlet = new Admission.Outlet() {
        @Override
        public void dispatch(Job job, long now) {
            job.setEnqueuedAt(Instant.ofEpochMilli(now));
            context.forward(new Record<String, Object>(DispatchProcessor.jobKey(job), job, now), Names.TENANT_JOBS_SINK);
        }

        @Override
        public void result(Job job, JobResult result, long now) {
            context.forward(new Record<String, Object>(job.getJobId(), result, now), Names.TENANT_RESULTS_SINK);
            Attempt report = Attempt.newBuilder().setOutcome(result).setFinished(true).setTraceContext(job.getTraceContext()).build();
            context.forward(new Record<String, Object>(job.getFunction().getName(), report, now), Names.TENANT_ATTEMPTS_SINK);
        }

        @Override
        public void deadLetter(Job job, DeadLetter letter, long now) {
            context.forward(new Record<String, Object>(job.getJobId(), letter, now), Names.TENANT_DLQ_SINK);
        }
    };

    /** {@code limits}: the pool topics' retention bounds how long a slot is held for a job that never reports. */
    private final DispatcherMeters meters;

    public TenantProcessor(SchemaRegistryClient registry, Duration tick, TopicLimits limits, DispatcherMeters meters) {
        this.meters = meters;
        this.limits = limits;
        this.jobReader = new AvroDeserializer<>(registry, Job.class);
        this.jobWriter = new AvroSerializer<>(registry);
        this.registry = registry;
        this.tick = tick;
    }

    /** The value of a notice that a job's attempt ended: the attempt number, then the job id. */
    static byte[] finishedNotice(String jobId, int attempt) {
        byte[] id = jobId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + id.length).putInt(attempt).put(id).array();
    }

    static Headers finishedHeaders() {
        return new RecordHeaders().add(KIND_HEADER, FINISHED);
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.tenants = new TenantLimits(registry, context.getStateStore(Names.TENANTS_STORE));
        this.timers = new Timers(context.getStateStore(Names.TENANT_TIMERS_STORE));
        this.admission = new Admission("Tenant", context.getStateStore(Names.TENANT_LIMITS_STORE),
                context.getStateStore(Names.TENANT_INFLIGHT_STORE),
                new Pending(context.getStateStore(Names.TENANT_PENDING_STORE), meters, DispatcherMeters.TENANT_PENDING), timers, new SlotLeases(limits), jobWriter, jobReader);
        this.wakeup = new Wakeup(context, tick, this::punctuate, late -> meters.late("tenant", late));
        rearm(context.currentSystemTimeMs());
    }

    @Override
    public void close() {
        if (admission != null) {
            admission.close();
        }
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String tenant = record.key();
        long now = context.currentSystemTimeMs();
        var kind = record.headers().lastHeader(KIND_HEADER);
        if (kind != null && Arrays.equals(kind.value(), FINISHED)) {
            ByteBuffer notice = ByteBuffer.wrap(record.value());
            int attempt = notice.getInt();
            String jobId = StandardCharsets.UTF_8.decode(notice).toString();
            if (admission.finished(tenant, jobId, attempt)) {
                admission.release(tenant, current(tenant), now, DispatchProcessor.MAX_PER_TICK, outlet);
            }
            return;
        }
        Job job = jobReader.deserialize(DispatchProcessor.STATE_TOPIC, record.value());
        admission.admit(tenant, current(tenant), job, now, outlet);
        if (admission.holds(tenant)) {
            wakeup.soon(now);
        }
    }

    /** Punctuate every tick while jobs are held, else when the next lease ends, else not at all. */
    private void rearm(long now) {
        wakeup.rearm(now, admission.anyWaiting(), admission.anyWaiting() ? null : timers.firstDue());
    }

    /** The tenant's limits; none when they were removed (its held jobs then go out). */
    private LimitState.Limits current(String tenant) {
        LimitState.Limits limits = tenants.limits(tenant);
        return limits != null ? limits : new LimitState.Limits(null, null, Integer.MAX_VALUE);
    }

    private void punctuate(long now) {
        // This stage's timers are leases only: a tenant whose slot a lease freed has its held jobs released below.
        timers.fire(now, DispatchProcessor.MAX_PER_TICK, timer -> admission.leaseEnded(timer.id()),
                (timer, e) -> log.error("Lease timer {} failed; dropped", timer.id(), e));
        int budget = DispatchProcessor.MAX_PER_TICK;
        for (String tenant : admission.waiting()) {
            if (budget <= 0) {
                break;
            }
            budget -= admission.release(tenant, current(tenant), now, budget, outlet);
        }
        rearm(now);
    }
}
