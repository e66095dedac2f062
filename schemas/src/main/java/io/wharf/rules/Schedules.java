package io.wharf.rules;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Optional;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;

import io.wharf.records.Schedule;

/**
 * When a schedule is due. Cron expressions use Unix syntax (5 fields, minute resolution) or, with a leading
 * seconds field, Spring's 6 fields; they are evaluated in the schedule's time zone, so daylight-saving shifts
 * follow local time. {@code everyMillis} counts from {@code runAt} (or the creation time); {@code runAt} alone
 * fires once.
 */
public final class Schedules {
    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final CronParser WITH_SECONDS = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING));

    private Schedules() {
    }

    /** Checks a schedule, throwing an error that names the field at fault and how to fix it. */
    public static void validate(Schedule schedule) {
        if (schedule.getId() == null || schedule.getId().isBlank()) {
            throw new IllegalArgumentException("Schedule has no id");
        }
        if (schedule.getFunction() == null || schedule.getFunction().isBlank()) {
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' names no function");
        }
        int kinds = (schedule.getCron() != null ? 1 : 0) + (schedule.getEveryMillis() != null ? 1 : 0);
        if (kinds > 1) {
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' sets both cron and everyMillis: choose one");
        }
        if (kinds == 0 && schedule.getRunAt() == null) {
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' sets none of cron, everyMillis or runAt: set one");
        }
        if (schedule.getEveryMillis() != null && schedule.getEveryMillis() < 1000) {
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' has everyMillis " + schedule.getEveryMillis()
                    + ": use at least 1000 (one second)");
        }
        if (schedule.getMaxRuns() != null && schedule.getMaxRuns() < 1) {
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' has maxRuns " + schedule.getMaxRuns() + ": use 1 or more");
        }
        zone(schedule);
        if (schedule.getCron() != null) {
            cron(schedule);
        }
        if ((schedule.getCron() != null || schedule.getEveryMillis() != null) && nextDue(schedule, System.currentTimeMillis()) == null) {
            String end = schedule.getEndAt() != null ? " before its endAt " + schedule.getEndAt() : "";
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' never fires: "
                    + (schedule.getCron() != null ? "cron '" + schedule.getCron().trim() + "' matches no date" + end
                    + " (check the day of month against the month: February 30 is none)" : "its next run would come after its endAt "
                    + schedule.getEndAt()));
        }
    }

    private static ZoneId zone(Schedule schedule) {
        try {
            return ZoneId.of(schedule.getTimeZone());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' has time zone '" + schedule.getTimeZone()
                    + "', which is unknown: use a region id such as Europe/Paris or UTC");
        }
    }

    private static ExecutionTime cron(Schedule schedule) {
        String expression = schedule.getCron().trim();
        int fields = expression.split("\\s+").length;
        try {
            Cron cron = (fields == 6 ? WITH_SECONDS : UNIX).parse(expression).validate();
            return ExecutionTime.forCron(cron);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Schedule '" + schedule.getId() + "' has cron '" + expression + "', which is invalid ("
                    + e.getMessage() + "): use 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first");
        }
    }

    /** The first due time strictly after {@code afterMillis}, or null when the schedule has no more. */
    public static Long nextDue(Schedule schedule, long afterMillis) {
        Long due;
        if (schedule.getCron() != null) {
            ZonedDateTime after = Instant.ofEpochMilli(afterMillis).atZone(zone(schedule));
            Optional<ZonedDateTime> next = cron(schedule).nextExecution(after);
            due = next.map(t -> t.toInstant().toEpochMilli()).orElse(null);
        } else if (schedule.getEveryMillis() != null) {
            long anchor = schedule.getRunAt() != null ? schedule.getRunAt().toEpochMilli() : schedule.getCreatedAt().toEpochMilli();
            long every = schedule.getEveryMillis();
            due = afterMillis < anchor ? anchor : anchor + (Math.floorDiv(afterMillis - anchor, every) + 1) * every;
        } else {
            long runAt = schedule.getRunAt().toEpochMilli();
            due = runAt > afterMillis ? runAt : null;
        }
        if (due != null && schedule.getEndAt() != null && due > schedule.getEndAt().toEpochMilli()) {
            return null;
        }
        return due;
    }
}
