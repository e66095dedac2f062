package io.wharf.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.wharf.gateway.http.CallbackRequests.Reach;

/** Which X-Callback-Url a gateway POSTs to. Only IP literals and localhost: nothing here resolves a name through DNS. */
class CallbackRequestsTest {
    private static final CallbackRequests DEFAULT = new CallbackRequests(List.of(Reach.PUBLIC, Reach.LOOPBACK));

    @Test
    void everyPrivateRangeIsPrivateAndLoopbackIsLoopback() throws Exception {
        for (String address : List.of("10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1", "169.254.169.254", "0.0.0.0", "fd00::1",
                "fe80::1", "224.0.0.1")) {
            assertThat(CallbackRequests.reach(InetAddress.getByName(address))).as(address).isEqualTo(Reach.PRIVATE);
        }
        for (String address : List.of("127.0.0.1", "127.8.9.10", "::1")) {
            assertThat(CallbackRequests.reach(InetAddress.getByName(address))).as(address).isEqualTo(Reach.LOOPBACK);
        }
        for (String address : List.of("172.32.0.1", "93.184.215.14", "2606:4700::1")) {
            assertThat(CallbackRequests.reach(InetAddress.getByName(address))).as(address).isEqualTo(Reach.PUBLIC);
        }
    }

    @Test
    void byDefaultAPrivateAddressIsRefusedNamingTheSettingThatAllowsIt() {
        for (String url : List.of("http://10.0.0.5:8080/hook", "http://169.254.169.254/latest/meta-data", "https://[fd12::7]/x")) {
            assertThatThrownBy(() -> DEFAULT.check(url)).as(url).isInstanceOfSatisfying(ApiError.class, e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat((String) e.body().get("message")).contains("private address").contains("wharf.gateway.callbacks.allow");
            });
        }
        assertThat(new CallbackRequests(List.of(Reach.PRIVATE)).check("http://10.0.0.5:8080/hook")).isEqualTo(URI.create("http://10.0.0.5:8080/hook"));
    }

    @Test
    void anOperatorMayForbidLoopbackToo() {
        CallbackRequests publicOnly = new CallbackRequests(List.of(Reach.PUBLIC));
        for (String url : List.of("http://127.0.0.1:9000/done", "http://localhost:9000/done", "http://[::1]:9000/done")) {
            assertThatThrownBy(() -> publicOnly.check(url)).as(url).isInstanceOfSatisfying(ApiError.class,
                    e -> assertThat((String) e.body().get("message")).contains("loopback address"));
        }
        assertThat(DEFAULT.check(" http://127.0.0.1:9000/done ")).hasHost("127.0.0.1").hasPort(9000);
    }

    @Test
    void onlyAbsoluteHttpUrlsAreTaken() {
        for (String url : List.of("ftp://127.0.0.1/x", "file:///etc/passwd", "/relative/path", "127.0.0.1:9000")) {
            assertThatThrownBy(() -> DEFAULT.check(url)).as(url).isInstanceOfSatisfying(ApiError.class,
                    e -> assertThat((String) e.body().get("message")).contains("absolute http:// or https:// URL"));
        }
        assertThatThrownBy(() -> DEFAULT.check("http://exa mple/")).isInstanceOfSatisfying(ApiError.class,
                e -> assertThat((String) e.body().get("message")).contains("is not a URL"));
    }
}
