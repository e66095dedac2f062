package io.wharf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import io.wharf.records.Event;
import io.wharf.records.FunctionSpec;

/**
 * The dashboard in a real browser (Debian's headless Chromium, driven by Selenium): sign in with a key, watch a job
 * just started appear and finish on the live stream, replay a dead letter and watch it run; a screenshot is kept in
 * {@code target/dashboard/}.
 */
class DashboardIT {
    private static GatewayStack stack;
    private static WebDriver browser;
    private static ChromeDriverService driver;

    @BeforeAll
    static void start() throws Exception {
        stack = GatewayStack.shared();
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        // Headless, and nowhere but loopback: no name resolves except 127.0.0.1, and no background traffic.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,2200", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1");
        driver = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        browser = new ChromeDriver(driver, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (driver != null) {
            driver.stop();
        }
    }

    private static WebElement row(String table, String attribute, String id) {
        List<WebElement> rows = browser.findElements(By.cssSelector("#" + table + " tbody tr[" + attribute + "='" + id + "']"));
        return rows.isEmpty() ? null : rows.getFirst();
    }

    private static String statusOf(String jobId) {
        WebElement row = row("jobs", "data-job", jobId);
        return row == null ? null : row.getDomAttribute("data-status");
    }

    @Test
    void signInWatchAJobRunReplayADeadLetterAndKeepAScreenshot() throws Exception {
        String adminKey = stack.key("default", true);
        String fn = stack.deploy("dash", "default", spec -> spec.setCommand(List.of("sh", "-c", "echo \"dashboard says $(cat)\"")));

        browser.get(stack.gateway.url() + "/dashboard/");
        browser.findElement(By.id("key")).sendKeys("wharf_000000000000_" + "x".repeat(43));
        browser.findElement(By.id("login")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElement(By.id("login-error")).getText(), t -> t.contains("not known"));
        browser.findElement(By.id("key")).sendKeys(adminKey);
        browser.findElement(By.id("login")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("stream-state")).getText(), "live"::equals);
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("functions")).getText(), t -> t.contains(fn));

        // A job started now shows up on the live stream, then finishes there.
        var accepted = stack.call(stack.gateway, "POST", "/async-function/" + fn, adminKey, "hello", Map.of());
        assertThat(accepted.statusCode()).isEqualTo(202);
        String jobId = accepted.headers().firstValue("X-Call-Id").orElseThrow();
        await().atMost(Duration.ofSeconds(60)).until(() -> statusOf(jobId), "SUCCEEDED"::equals);

        // An event for a function not deployed yet is refused; once it is deployed, the letter replayed from the page runs.
        String later = "dash-later-" + UUID.randomUUID().toString().substring(0, 6);
        Event event = stack.client.event(later, "again".getBytes(StandardCharsets.UTF_8), "text/plain");
        stack.client.send(event);
        stack.client.deploy(FunctionSpec.newBuilder().setName(later).setImage(stack.image).setCommand(List.of("cat")).setMemoryMb(32).build());
        WebElement letter = await().atMost(Duration.ofSeconds(60)).until(() -> row("dlq", "data-letter", event.getId()), r -> r != null);
        letter.findElement(By.cssSelector("button.replay")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> row("dlq", "data-letter", event.getId()).getDomAttribute("data-replayed"), "true"::equals);
        await().atMost(Duration.ofSeconds(60)).until(() -> statusOf(event.getId()), "SUCCEEDED"::equals);
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElements(By.cssSelector("#ratio-chart canvas")).size(), n -> n > 0);

        Path dir = Files.createDirectories(Path.of("target", "dashboard"));
        Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), dir.resolve("overview.png"), StandardCopyOption.REPLACE_EXISTING);

        // The job's own page: its state and its output.
        row("jobs", "data-job", jobId).findElement(By.tagName("a")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("logs")).getText(), t -> t.contains("dashboard says hello"));
        assertThat(browser.findElement(By.id("job-fields")).getText()).contains("SUCCEEDED", fn);
        Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), dir.resolve("job.png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
