package io.wharf.dispatcher.internals;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.wharf.records.Event;
import io.wharf.records.EventSource;
import io.wharf.records.JobStatus;
import io.wharf.records.Schedule;
import io.wharf.rules.Schedules;
import io.wharf.serde.AvroDeserializer;
import io.wharf.serde.SchemaRegistryClient;
import io.wharf.serde.SchemaRegistryException;
import io.wharf.topics.DeadLetterRecords;
import io.wharf.topics.Topics;

/**
 * Fires schedules from the compacted {@code wharf.schedules} topic. Each schedule's next due time, last fired
 * time and run count sit in {@code schedule-state}; a due time waits in the schedule timers. Firing writes the
 * event (id {@code <schedule id>@<due millis>}) and the updated state in one Streams transaction, so a due time
 * fires once across instances and restarts. Due times missed while no instance ran coalesce into one firing.
 */
public final class ScheduleProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger log = LoggerFactory.getLogger(ScheduleProcessor.class);
    public static final String SCHEDULE_HEADER = "wharf-schedule";
    public static final String DUE_HEADER = "wharf-due";

    private final AvroDeserializer<Schedule> deserializer;
    private final Duration tick;
    private final Placement placement;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, byte[]> schedules;
    private KeyValueStore<String, byte[]> states;
    private Timers timers;
    private Wakeup wakeup;

    private final DispatcherMeters meters;

    public ScheduleProcessor(SchemaRegistryClient registry, Duration tick, Placement placement, DispatcherMeters meters) {
        this.meters = meters;
        this.placement = placement;
        this.deserializer = new AvroDeserializer<>(registry, Schedule.class);
        this.tick = tick;
    }

    /** nextDue 0 = none; lastFired -1 = never. */
    record State(long nextDue, long lastFired, long runs) {
        static State decode(byte[] bytes) {
            if (bytes == null) {
                return new State(0, -1, 0);
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            return new State(buffer.getLong(), buffer.getLong(), buffer.getLong());
        }

        byte[] encode() {
            return ByteBuffer.allocate(24).putLong(nextDue).putLong(lastFired).putLong(runs).array();
        }
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.schedules = context.getStateStore(Names.SCHEDULES_STORE);
        this.states = context.getStateStore(Names.SCHEDULE_STATE_STORE);
        this.timers = new Timers(context.getStateStore(Names.SCHEDULE_TIMERS_STORE));
        this.wakeup = new Wakeup(context, tick, this::punctuate, late -> meters.late("schedule", late));
        rearm(context.currentSystemTimeMs());
    }

    /** Wake at the earliest due time, and not at all while nothing is scheduled. */
    private void rearm(long now) {
        wakeup.rearm(now, false, timers.firstDue());
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String id = record.key();
        if (id == null) {
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), null, JobStatus.REJECTED,
                    "A wharf.schedules record has no key: the key must be the schedule id", Names.SCHEDULE_DLQ_SINK);
            return;
        }
        if (placement.moveIfMisplaced(context, record, id, Names.SCHEDULES_REROUTE_SINK)) {
            return; // a schedule's updates must all reach one task, or two tasks would fire it
        }
        if (record.value() == null) {
            schedules.delete(id);
            states.delete(id);
            log.info("Schedule {} deleted", id);
            return;
        }
        Schedule schedule;
        try {
            schedule = deserializer.deserialize(Topics.SCHEDULES, record.value());
            if (!id.equals(schedule.getId())) {
                throw new IllegalArgumentException("Schedule record keyed '" + id + "' has id '" + schedule.getId() + "': key and id must be equal");
            }
            Schedules.validate(schedule);
        } catch (RuntimeException e) {
            if (SchemaRegistryException.isUnavailable(e)) {
                throw e;
            }
            DeadLetters.deadLetter(context, record, DeadLetters.positionId(context), id, JobStatus.REJECTED,
                    "Schedule '" + id + "' refused, the previous definition stays: " + e.getMessage(), Names.SCHEDULE_DLQ_SINK);
            return;
        }
        long now = context.currentSystemTimeMs();
        State state = State.decode(states.get(id));
        schedules.put(id, record.value());
        long next = 0;
        if (!schedule.getPaused() && (schedule.getMaxRuns() == null || state.runs() < schedule.getMaxRuns())) {
            // A one-off run-at in the past still fires once; recurring schedules start from now.
            boolean oneOff = schedule.getCron() == null && schedule.getEveryMillis() == null;
            long after = oneOff ? state.lastFired() : Math.max(state.lastFired(), now - 1);
            Long due = Schedules.nextDue(schedule, after);
            next = due == null ? 0 : due;
        }
        states.put(id, new State(next, state.lastFired(), state.runs()).encode());
        if (next > 0) {
            timers.schedule(next, Timers.Kind.SCHEDULE, id, null);
            wakeup.atOrBefore(next, now);
        }
        log.info("Schedule {} for function {} {}", id, schedule.getFunction(),
                next > 0 ? "next due at " + Instant.ofEpochMilli(next) : schedule.getPaused() ? "paused" : "has no more runs");
    }

    private void punctuate(long now) {
        timers.fire(now, DispatchProcessor.MAX_PER_TICK, timer -> {
            byte[] bytes = schedules.get(timer.id());
            State state = State.decode(states.get(timer.id()));
            if (bytes == null || state.nextDue() != timer.due()) {
                return; // deleted, paused or changed since this timer was set
            }
            Schedule schedule = deserializer.deserialize(Topics.SCHEDULES, bytes);
            Event event = Event.newBuilder()
                    .setId(schedule.getId() + "@" + timer.due())
                    .setTenant(schedule.getTenant())
                    .setFunction(schedule.getFunction())
                    .setSource(EventSource.SCHEDULE)
                    .setPayload(schedule.getPayload())
                    .setContentType(schedule.getContentType())
                    .setHeaders(Map.of(SCHEDULE_HEADER, schedule.getId(), DUE_HEADER, Instant.ofEpochMilli(timer.due()).toString()))
                    .setCreatedAt(Instant.ofEpochMilli(now))
                    .build();
            context.forward(new Record<String, Object>(schedule.getFunction(), event, now), Names.SCHEDULED_EVENTS_SINK);
            long runs = state.runs() + 1;
            long next = 0;
            if (!schedule.getPaused() && (schedule.getMaxRuns() == null || runs < schedule.getMaxRuns())) {
                Long due = Schedules.nextDue(schedule, Math.max(timer.due(), now));
                next = due == null ? 0 : due;
            }
            states.put(schedule.getId(), new State(next, timer.due(), runs).encode());
            if (next > 0) {
                timers.schedule(next, Timers.Kind.SCHEDULE, schedule.getId(), null);
            }
        }, (timer, e) -> {
            String reason = "The dispatcher failed firing schedule " + timer.id() + " due at " + Instant.ofEpochMilli(timer.due()) + " (" + e
                    + "); that run was dropped, and the schedule waits until it is updated";
            log.error("Schedule timer {} sent to {}: {}", timer.id(), Topics.DLQ, reason, e);
            context.forward(new Record<String, Object>(timer.id(), DeadLetterRecords.of(timer.id(), null, JobStatus.FAILED, reason,
                    Topics.SCHEDULES, -1, -1, timer.id(), null, now), now), Names.SCHEDULE_DLQ_SINK);
        });
        rearm(now);
    }
}
