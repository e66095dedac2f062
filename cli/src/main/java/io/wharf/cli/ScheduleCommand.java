package io.wharf.cli;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.concurrent.Callable;

import io.wharf.client.WharfClient;
import io.wharf.client.Units;
import io.wharf.records.Schedule;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code wharf schedule}: create, list, pause, resume and delete schedules on the compacted wharf.schedules topic. */
@Command(name = "schedule", description = "Run a function on a schedule (cron, every, at).",
        subcommands = {ScheduleCommand.Create.class, ScheduleCommand.ListSchedules.class, ScheduleCommand.Pause.class,
                ScheduleCommand.Resume.class, ScheduleCommand.Delete.class})
final class ScheduleCommand {

    @Command(name = "create", description = "Create or replace a schedule. Exactly one of --cron, --every or --at (--at may start --every).")
    static final class Create implements Callable<Integer> {
        @Parameters(index = "0", description = "Schedule id.")
        String id;
        @Parameters(index = "1", description = "Function to run.")
        String function;
        @Option(names = "--cron", description = "Cron: 5 fields (minute hour day month weekday) or 6 with seconds first.")
        String cron;
        @Option(names = "--tz", defaultValue = "UTC", description = "Time zone of --cron (default ${DEFAULT-VALUE}).")
        String timeZone;
        @Option(names = "--every", description = "Interval, e.g. 30s, 5m, 1h.")
        String every;
        @Option(names = "--at", description = "ISO instant, e.g. 2026-12-01T09:00:00Z: run once then (or start --every then).")
        String at;
        @Option(names = "--end-at", description = "ISO instant after which it stops.")
        String endAt;
        @Option(names = "--max-runs", description = "Stop after this many runs.")
        Long maxRuns;
        @Option(names = "--data", description = "Payload text of each run.")
        String data;
        @Option(names = "--content-type", defaultValue = "application/octet-stream")
        String contentType;
        @Option(names = "--paused", description = "Create it paused.")
        boolean paused;
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            Schedule schedule = Schedule.newBuilder()
                    .setId(id)
                    .setFunction(function)
                    .setCron(cron)
                    .setTimeZone(timeZone)
                    .setEveryMillis(every == null ? null : Units.duration("--every", every).toMillis())
                    .setRunAt(instant("--at", at))
                    .setEndAt(instant("--end-at", endAt))
                    .setMaxRuns(maxRuns)
                    .setPaused(paused)
                    .setPayload(ByteBuffer.wrap(data == null ? new byte[0] : data.getBytes(StandardCharsets.UTF_8)))
                    .setContentType(contentType)
                    .setCreatedAt(Instant.now())
                    .build();
            try (WharfClient client = connection.client()) {
                client.schedule(schedule);
            }
            System.out.println("Schedule " + id + " created: " + describe(schedule));
            return 0;
        }
    }

    @Command(name = "list", description = "List schedules.")
    static final class ListSchedules implements Callable<Integer> {
        @CommandLine.Mixin
        Wharf.Connection connection;

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                Map<String, Schedule> schedules = client.schedules();
                if (schedules.isEmpty()) {
                    System.out.println("No schedules.");
                }
                schedules.values().forEach(s -> System.out.printf("%-30s %-20s %-7s %s%n", s.getId(), s.getFunction(),
                        s.getPaused() ? "paused" : "active", describe(s)));
            }
            return 0;
        }
    }

    abstract static class Change implements Callable<Integer> {
        @Parameters(index = "0", description = "Schedule id.")
        String id;
        @CommandLine.Mixin
        Wharf.Connection connection;

        Schedule existing(WharfClient client) {
            Schedule schedule = client.schedules().get(id);
            if (schedule == null) {
                throw new IllegalArgumentException("No schedule '" + id + "': `wharf schedule list` shows them");
            }
            return schedule;
        }
    }

    /** Pause and resume: the schedule rewritten with its {@code paused} flag set. */
    abstract static class SetPaused extends Change {
        abstract boolean paused();

        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                client.schedule(Schedule.newBuilder(existing(client)).setPaused(paused()).build());
            }
            System.out.println("Schedule " + id + (paused() ? " paused" : " resumed"));
            return 0;
        }
    }

    @Command(name = "pause", description = "Stop a schedule from firing until it is resumed.")
    static final class Pause extends SetPaused {
        @Override
        boolean paused() {
            return true;
        }
    }

    @Command(name = "resume", description = "Resume a paused schedule from its next due time.")
    static final class Resume extends SetPaused {
        @Override
        boolean paused() {
            return false;
        }
    }

    @Command(name = "delete", description = "Delete a schedule.")
    static final class Delete extends Change {
        @Override
        public Integer call() {
            try (WharfClient client = connection.client()) {
                existing(client);
                client.deleteSchedule(id);
            }
            System.out.println("Schedule " + id + " deleted");
            return 0;
        }
    }

    static String describe(Schedule s) {
        StringBuilder b = new StringBuilder();
        if (s.getCron() != null) {
            b.append("cron '").append(s.getCron()).append("' ").append(s.getTimeZone());
        } else if (s.getEveryMillis() != null) {
            b.append("every ").append(s.getEveryMillis()).append(" ms");
            if (s.getRunAt() != null) {
                b.append(" from ").append(s.getRunAt());
            }
        } else {
            b.append("at ").append(s.getRunAt());
        }
        if (s.getEndAt() != null) {
            b.append(", until ").append(s.getEndAt());
        }
        if (s.getMaxRuns() != null) {
            b.append(", at most ").append(s.getMaxRuns()).append(" runs");
        }
        return b.toString();
    }

    private static Instant instant(String option, String value) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(option + " '" + value + "' is not an ISO instant: use e.g. 2026-12-01T09:00:00Z");
        }
    }
}
