package io.wharf.rules;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import io.wharf.records.Schedule;

class SchedulesTest {
    private static Schedule.Builder schedule() {
        return Schedule.newBuilder().setId("s").setFunction("f").setCreatedAt(Instant.now());
    }

    @Test
    void aCronThatNeverFiresIsRefused() {
        assertThatThrownBy(() -> Schedules.validate(schedule().setCron("0 0 30 2 *").build())).hasMessageContaining("never fires")
                .hasMessageContaining("February 30");
        assertThatThrownBy(() -> Schedules.validate(schedule().setCron("0 3 * * *").setEndAt(Instant.now().minusSeconds(60)).build()))
                .hasMessageContaining("never fires").hasMessageContaining("endAt");
        assertThatCode(() -> Schedules.validate(schedule().setCron("0 0 29 2 *").build())).as("leap days come").doesNotThrowAnyException();
    }

    @Test
    void aBadCronTimeZoneOrPeriodIsRefusedNamingIt() {
        assertThatThrownBy(() -> Schedules.validate(schedule().setCron("61 * * * *").build())).hasMessageContaining("cron '61 * * * *'");
        assertThatThrownBy(() -> Schedules.validate(schedule().setCron("* * * * *").setTimeZone("Mars/Olympus").build()))
                .hasMessageContaining("time zone 'Mars/Olympus'");
        assertThatThrownBy(() -> Schedules.validate(schedule().setEveryMillis(10L).build())).hasMessageContaining("everyMillis 10");
        assertThatThrownBy(() -> Schedules.validate(schedule().setCron("* * * * *").setEveryMillis(5000L).build())).hasMessageContaining("both");
    }
}
