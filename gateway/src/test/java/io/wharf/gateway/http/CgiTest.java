package io.wharf.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class CgiTest {
    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsStatusHeadersAndBodyWithEitherLineEnding() {
        for (String nl : new String[] {"\n", "\r\n"}) {
            Cgi cgi = Cgi.parse(bytes("Status: 201 Created" + nl + "Content-Type: application/json" + nl + nl + "{\"a\":1}\n")).orElseThrow();
            assertThat(cgi.status()).isEqualTo(201);
            assertThat(cgi.headers()).containsEntry("Content-Type", "application/json");
            assertThat(new String(cgi.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}\n");
        }
    }

    @Test
    void withoutAStatusLineItIs200() {
        assertThat(Cgi.parse(bytes("Content-Type: text/html\n\n<p>hi</p>")).orElseThrow().status()).isEqualTo(200);
    }

    @Test
    void outputThatDoesNotBeginWithHeadersIsNotCgi() {
        assertThat(Cgi.parse(bytes("hello world\n\nmore"))).isEmpty();
        assertThat(Cgi.parse(bytes("just text"))).isEmpty();
        assertThat(Cgi.parse(bytes("Status: abc\n\n"))).isEmpty();
        assertThat(Cgi.parse(bytes("Status: 999\n\n"))).isEmpty();
        assertThat(Cgi.parse(bytes("\n\nbody"))).isEmpty();
    }

    @Test
    void framingHeadersAndTheCallIdStayTheGateways() {
        Cgi cgi = Cgi.parse(bytes("Content-Length: 1\nX-Call-Id: forged\nTransfer-Encoding: chunked\nX-Ok: yes\n\nbody")).orElseThrow();
        assertThat(cgi.headers()).containsOnlyKeys("X-Ok");
    }
}
