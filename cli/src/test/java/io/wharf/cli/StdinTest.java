package io.wharf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StdinTest {
    @Test
    void aPipeOrARedirectedFileIsInputATerminalOrNothingIsNot() {
        assertThat(Stdin.piped("pipe:[41234]")).isTrue();
        assertThat(Stdin.piped("/home/me/payload.json")).isTrue();
        assertThat(Stdin.piped("/dev/pts/3")).isFalse();
        assertThat(Stdin.piped("/dev/null")).isFalse();
        assertThat(Stdin.piped("socket:[99]")).isFalse();
    }
}
