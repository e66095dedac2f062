package io.wharf.dispatcher.internals;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Stands where the processors send job states and dead letters, under the sink's name: counts each record
 * ({@link DispatcherMeters}) and passes it on to the sink itself, so no place that writes one can forget its meter.
 */
public final class MeterTap implements Processor<String, Object, String, Object> {
    private final String sink;
    private final DispatcherMeters meters;
    private ProcessorContext<String, Object> context;

    public MeterTap(String sink, DispatcherMeters meters) {
        this.sink = sink;
        this.meters = meters;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, Object> record) {
        meters.written(record.value());
        context.forward(record, sink);
    }
}
