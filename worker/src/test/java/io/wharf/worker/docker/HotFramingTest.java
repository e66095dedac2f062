package io.wharf.worker.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.junit.jupiter.api.Test;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** The hot protocol's answers as a buggy or hostile function may write them. */
class HotFramingTest {
    private static final int CAP = 1024;

    private static HotFraming.Answer answer(String jobId, String line) throws Exception {
        HotFraming.Line read = HotFraming.readLine(in(line + "\n"), HotFraming.maxLineBytes(CAP));
        return HotFraming.parse(jobId, read, CAP);
    }

    private static InputStream in(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void readsAWellFormedAnswer() throws Exception {
        HotFraming.Answer a = answer("j1", "j1 3 " + Base64.getEncoder().encodeToString("out".getBytes(StandardCharsets.UTF_8)));
        assertThat(a.exitCode()).isEqualTo(3);
        assertThat(new String(a.stdout(), StandardCharsets.UTF_8)).isEqualTo("out");
        assertThat(a.truncated()).isFalse();
        assertThat(answer("j1", "j1 0").stdout()).isEmpty();
    }

    @Test
    void refusesGarbageAndAnswersForAnotherJobNamingWhat() {
        assertThatThrownBy(() -> answer("j1", "hello")).isInstanceOf(HotFraming.Broken.class).hasMessageContaining("not JOB_ID EXIT_CODE");
        assertThatThrownBy(() -> answer("j1", "j2 0 b2s=")).hasMessageContaining("answered job j2 when job j1 was asked");
        assertThatThrownBy(() -> answer("j1", "j1 x b2s=")).hasMessageContaining("exit code 'x'");
        assertThatThrownBy(() -> answer("j1", "j1 300")).hasMessageContaining("outside 0 to 255");
        assertThatThrownBy(() -> answer("j1", "j1 0 !!!")).hasMessageContaining("not base64");
    }

    @Test
    void cutsAnAnswerOverTheBodyCapWithoutHoldingTheRestOfItsLine() throws Exception {
        byte[] big = new byte[CAP * 3];
        HotFraming.Answer a = answer("j1", "j1 0 " + Base64.getEncoder().encodeToString(big));
        assertThat(a.truncated()).isTrue();
        assertThat(a.stdout()).hasSize(CAP);
    }

    @Test
    void aLineWithNoNewlineEndsAsNothingAndHoldsNoMoreThanTheBound() throws IOException {
        // 64 MiB of garbage without a newline, then the pipe closes: nothing answered, at most the bound kept.
        InputStream endless = new InputStream() {
            long left = 64L << 20;

            @Override
            public int read() {
                return left-- > 0 ? 'a' : -1;
            }
        };
        assertThat(HotFraming.readLine(endless, HotFraming.maxLineBytes(CAP))).isNull();
    }

    @Property(tries = 2000)
    void anyBytesEitherParseOrBreakTheProtocolNeverAnythingElse(@ForAll("lines") byte[] bytes, @ForAll @IntRange(min = 0, max = 4096) int cap)
            throws IOException {
        HotFraming.Line line = HotFraming.readLine(new ByteArrayInputStream(bytes), HotFraming.maxLineBytes(cap));
        if (line == null) {
            return;
        }
        try {
            HotFraming.Answer a = HotFraming.parse("job-1", line, cap);
            assertThat(a.stdout().length).isLessThanOrEqualTo(cap);
            assertThat(a.exitCode()).isBetween(0, 255);
        } catch (HotFraming.Broken expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    @Provide
    Arbitrary<byte[]> lines() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(6000);
        Arbitrary<byte[]> nearlyValid = Arbitraries.strings().withChars("job-1 0123456789ABCDEFabcdef+/=\n\r\t -").ofMaxLength(6000)
                .map(s -> ("job-1 " + s).getBytes(StandardCharsets.ISO_8859_1));
        Arbitrary<byte[]> valid = Arbitraries.bytes().array(byte[].class).ofMaxSize(8000).map(b -> ("job-1 0 "
                + Base64.getEncoder().encodeToString(b) + "\n").getBytes(StandardCharsets.US_ASCII));
        return Arbitraries.oneOf(random, nearlyValid, valid);
    }
}
