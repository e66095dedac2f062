package io.wharf.dispatcher.internals;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import io.wharf.records.Job;
import io.wharf.records.JobPhase;
import io.wharf.records.JobResult;
import io.wharf.records.JobState;
import io.wharf.rules.JobStates;

/**
 * Stands where the processors send jobs and results: passes each record on to its sink and writes the state it
 * makes on {@code wharf.status} (a job written is QUEUED, a result is final), in the same transaction, so no
 * place that writes a job or a result can forget its status.
 */
public final class StatusTap implements Processor<String, Object, String, Object> {
    private final String sink;
    private ProcessorContext<String, Object> context;

    public StatusTap(String sink) {
        this.sink = sink;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, Object> record) {
        context.forward(record, sink);
        JobState state = switch (record.value()) {
            case Job job -> JobStates.of(job, JobPhase.QUEUED, record.timestamp(), null);
            case JobResult result -> JobStates.of(result, null, record.timestamp());
            default -> null;
        };
        if (state != null) {
            context.forward(new Record<String, Object>(state.getJobId(), state, record.timestamp()), Names.STATUS_SINK);
        }
    }
}
