package io.wharf.worker.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;

import io.wharf.worker.runtime.OutputListener;

class HotOutputTest {
    /** What one job's listener received. */
    private static final class Job implements OutputListener {
        final List<String> lines = new ArrayList<>();
        boolean ended;

        @Override
        public void onOutput(boolean stderr, byte[] chunk) {
            lines.add((stderr ? "err:" : "out:") + new String(chunk, StandardCharsets.UTF_8));
        }

        @Override
        public void onEnd() {
            ended = true;
        }
    }

    private static Frame line(StreamType stream, Instant at, String text) {
        return new Frame(stream, (at + " " + text).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldGiveEachLineToTheJobRunningWhenItWasStamped() {
        HotOutput output = new HotOutput(64);
        Job first = new Job();
        Job second = new Job();
        output.onNext(line(StreamType.STDOUT, Instant.now(), "before any job\n"));
        output.jobStarted(first);
        Instant duringFirst = Instant.now();
        output.jobStarted(second);
        // A line of the first job arriving after the second started still goes to the first.
        output.onNext(line(StreamType.STDERR, duringFirst, "late of first\n"));
        assertThat(first.ended).isFalse();
        output.onNext(line(StreamType.STDOUT, Instant.now().plusMillis(1), "of second\n"));

        assertThat(first.lines).containsExactly("err:late of first\n");
        assertThat(first.ended).as("a later job's line ends the earlier job's output").isTrue();
        assertThat(second.lines).containsExactly("out:of second\n");
        output.end();
        assertThat(second.ended).isTrue();
    }

    @Test
    void shouldKeepTheEndOfEachJobsStderrForItsResult() {
        HotOutput output = new HotOutput(8);
        HotOutput.Job first = output.jobStarted(new Job());
        output.onNext(line(StreamType.STDERR, Instant.now(), "0123456789\n"));
        output.onNext(line(StreamType.STDOUT, Instant.now(), "not stderr\n"));
        // A line stamped after the question shows all before it came: no waiting out the settle time.
        Thread.ofVirtual().start(() -> output.onNext(line(StreamType.STDOUT, Instant.now().plusSeconds(1), "later\n")));
        assertThat(first.stderrTail(java.time.Duration.ofMinutes(1))).isEqualTo("3456789\n");
        HotOutput.Job second = output.jobStarted(new Job());
        assertThat(second.stderrTail(java.time.Duration.ZERO)).isNull();
    }

    @Test
    void shouldHoldNoMoreThanTwoJobsOfASilentFunction() {
        HotOutput output = new HotOutput(64);
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Job job = new Job();
            jobs.add(job);
            output.jobStarted(job);
        }
        assertThat(jobs).extracting(j -> j.ended).containsExactly(true, true, true, false, false);
    }
}
