package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.openqa.selenium.support.ui.ExpectedConditions.urlContains;
import static org.openqa.selenium.support.ui.ExpectedConditions.visibilityOfElementLocated;

import java.time.Duration;
import java.util.List;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.Browser;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.RefusedPushOrders;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The console in headless Chromium, as the people who use it: an operator fixing a failure, a viewer reading one. */
class ConsoleBrowserTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/[^/]+/Messages.json";

    /** One Chromium for the class (each start costs seconds on a busy machine); every test begins logged out. */
    private static WebDriver browser;

    @BeforeAll
    static void openBrowser() throws Exception {
        browser = Browser.start();
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @BeforeEach
    void loggedOut() {
        try {
            browser.switchTo().alert().dismiss();   // one a failed test left open would fail this test's first command
        } catch (NoAlertPresentException none) {
            // as it should be
        }
        browser.get(base() + "/login");   // cookies are deleted for the page's site: Herald's
        browser.manage().deleteAllCookies();
    }

    @Test
    void anOperatorFindsAFailedDeliveryByOrderIdReadsWhyRetriesItAndSeesItDelivered() throws Exception {
        RefusedPushOrders scene = new RefusedPushOrders(jdbc, infra.providers(), "cus_browser" + newTicketId());
        try {
            String order = scene.order(newTicketId());
            awaitDeliveryState(RefusedPushOrders.key(order), "push", "FAILED");

            Browser.logIn(browser, base(), OPERATOR);
            waitForUrl("/console");
            assertThat(browser.findElement(By.id("who")).getText()).isEqualTo("operator (operator)");
            browser.findElement(By.id("orderId")).sendKeys(order);
            browser.findElement(By.id("search")).click();
            waitForUrl("orderId=" + order);

            List<WebElement> rows = browser.findElements(By.cssSelector("#failures tr[data-kind]"));
            assertThat(rows).as(rows.stream().map(r -> String.join(" | ", cells(r))).toList().toString()).hasSize(1);
            assertThat(cells(rows.get(0))).containsSubsequence("FAILED", "crm", "crm.order_confirmed", "push", scene.customer, order);
            assertThat(rows.get(0).findElement(By.className("reason")).getText())
                    .isEqualTo("push not sent: provider answered HTTP 400 Bad Request: "
                            + "{\"error\": {\"status\": \"INVALID_ARGUMENT\", \"message\": \"The registration token is not valid\"}}");
            // The count is what the button takes (its own search, not the rows shown above it).
            assertThat(browser.findElement(By.id("bulk-retry")).getText())
                    .contains("retry all 1 failed or parked deliveries matching this filter, shown above or not");
            // "Retry all" posts with the page's CSRF token (it had none, and every bulk retry from the page was refused 403);
            // without the confirmation ticked it is refused in words, and nothing is retried.
            browser.findElement(By.cssSelector("#bulk-retry button")).click();
            assertThat(new WebDriverWait(browser, Duration.ofSeconds(10)).until(visibilityOfElementLocated(By.id("error"))).getText())
                    .isEqualTo("tick the confirmation to retry every failed or parked delivery in this list");
            rows = browser.findElements(By.cssSelector("#failures tr[data-kind]"));
            rows.get(0).findElement(By.linkText("Open")).click();
            waitForUrl("/console/notifications/");

            WebElement push = deliveryRow("push");
            assertThat(push.findElement(By.className("state")).getText()).isEqualTo("FAILED");
            assertThat(push.findElement(By.className("reason")).getText()).contains("The registration token is not valid");
            assertThat(deliveryRow("email").findElement(By.className("state")).getText()).isEqualTo("SENT");

            scene.tokenFixed();   // the customer's app registered again
            push.findElement(By.cssSelector("form.retry input[name=comment]")).sendKeys("app re-registered");
            push.findElement(By.cssSelector("form.retry button")).click();
            assertThat(new WebDriverWait(browser, Duration.ofSeconds(10)).until(visibilityOfElementLocated(By.id("message"))).getText()).startsWith("push delivery").contains("queued for another attempt now");

            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                browser.navigate().refresh();
                return deliveryRow("push").findElement(By.className("state")).getText().equals("SENT");
            });
            String timeline = browser.findElement(By.id("timeline")).getText();
            assertThat(timeline).contains("Operator: RETRY \"app re-registered\" → queued operator");
            assertThat(timeline.indexOf("Operator: RETRY")).isLessThan(timeline.lastIndexOf("SENT (provider status 200)"));
            // Settled now: the list of failures for this order is empty, and there is nothing left to retry.
            assertThat(deliveryRow("push").findElements(By.cssSelector("form.retry"))).isEmpty();
            browser.get(base() + "/console?orderId=" + order);
            assertThat(browser.findElements(By.cssSelector("#failures tr[data-kind]"))).isEmpty();
        } finally {
            scene.tokenFixed();
        }
    }

    @Test
    void aViewerSeesTheFailureWithPersonalDataMaskedAndCannotRetryIt() throws Exception {
        String unique = newTicketId();
        String customer = "cus_viewer" + unique;
        String phone = "+1500555" + unique.substring(unique.length() - 4);
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Jenny Rosen', ?, ?)",
                customer, "jenny.rosen@example.com", phone);
        StubMapping notAMobile = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH))
                .withRequestBody(containing(phone.substring(1))).atPriority(1)
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"code\": 21614, \"message\": \"To number is not a mobile number\"}")));
        try {
            postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer));
            String key = Samples.paymentFailedKey(unique);
            awaitDeliveryState(key, "sms", "FAILED");
            long notification = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);

            Browser.logIn(browser, base(), VIEWER);
            waitForUrl("/console");
            assertThat(browser.findElement(By.id("who")).getText()).isEqualTo("viewer (viewer: personal data masked)");
            browser.get(base() + "/console?customerId=" + customer);
            WebElement row = browser.findElement(By.cssSelector("#failures tr[data-kind]"));
            assertThat(row.findElement(By.className("reason")).getText()).contains("is not a mobile number (a landline");
            assertThat(browser.findElements(By.id("bulk-retry"))).isEmpty();
            row.findElement(By.linkText("Open")).click();
            waitForUrl("/console/notifications/");

            WebElement sms = deliveryRow("sms");
            assertThat(sms.findElement(By.className("state")).getText()).isEqualTo("FAILED");
            assertThat(browser.findElements(By.cssSelector("form.retry, form.dismiss, form.resend"))).isEmpty();
            String raw = browser.findElement(By.id("raw")).getText();
            assertThat(raw).contains("\"customer_email\" : \"j***@example.com\"", "\"customer_name\" : \"J•••\"")
                    .doesNotContain("jenny.rosen@example.com", "Jenny Rosen");
            assertThat(browser.getPageSource()).doesNotContain("jenny.rosen@example.com", phone);

            // Hidden buttons are not the protection: the server refuses a viewer's retry even with a valid CSRF token.
            String csrf = browser.findElement(By.cssSelector("header form input[type=hidden]")).getAttribute("value");
            long smsId = jdbc.queryForObject("SELECT d.id FROM delivery d WHERE d.notification_id = ? AND d.channel = 'sms'", Long.class, notification);
            Object status = ((JavascriptExecutor) browser).executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    fetch('/console/deliveries/%d/retry', {method: 'POST', redirect: 'manual',
                          headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                          body: 'notification=%d&_csrf=' + encodeURIComponent('%s')}).then(r => done(r.status));
                    """.formatted(smsId, notification, csrf));
            assertThat(((Number) status).intValue()).isEqualTo(403);
            assertThat(jdbc.queryForObject("SELECT state FROM delivery WHERE id = ?", String.class, smsId)).isEqualTo("FAILED");

            // The operator, for comparison, sees the payload as it arrived.
            browser.manage().deleteAllCookies();
            Browser.logIn(browser, base(), OPERATOR);
            waitForUrl("/console");
            browser.get(base() + "/console/notifications/" + notification);
            assertThat(browser.findElement(By.id("raw")).getText()).contains("jenny.rosen@example.com");
        } finally {
            infra.providers().removeStub(notAMobile);
        }
    }

    @Test
    void markupInAnEventIsShownAsTextAndTheConsoleRunsOnlyItsOwnScripts() throws Exception {
        String ticket = newTicketId();
        String hostile = Samples.supportEvent("ticket.comment_added.json", ticket)
                .replace("Printer error E-42 after update", "<img src=x onerror=alert(1)> &amp; <b>bold</b>")
                .replace("\"Support Team\"", "\"<script>alert(2)</script>\"");
        assertThat(postSignedSupport(hostile).statusCode()).isEqualTo(202);
        String key = "support:agent_replied:" + ticket + ":41000000000555";
        long notification = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key), ids -> ids.size() == 1).get(0);
        awaitDeliveryState(key, "email", "SENT");

        // Pages carry the content policy (only Herald's scripts); the API and Hawtio are not pages of the console.
        for (String page : List.of("/console", "/console/notifications/" + notification, "/console/notifications/" + notification + "/proof")) {
            assertThat(apiAs(OPERATOR, "GET", page, null).headers().firstValue("Content-Security-Policy")).as(page)
                    .hasValueSatisfying(policy -> assertThat(policy).contains("script-src 'self'").doesNotContain("unsafe-eval"));
        }
        assertThat(apiAs(OPERATOR, "GET", "/login", null).headers().firstValue("Content-Security-Policy")).isPresent();
        assertThat(apiAs(OPERATOR, "GET", "/api/notifications/" + notification + "/proof", null).headers()
                .firstValue("Content-Security-Policy")).isEmpty();

        Browser.logIn(browser, base(), OPERATOR);
        waitForUrl("/console");
        browser.get(base() + "/console/notifications/" + notification + "/proof");
        String page = browser.findElement(By.tagName("main")).getText();
        assertThat(page).contains("<script>alert(2)</script> replied to your support request #" + ticket
                + " \"<img src=x onerror=alert(1)> &amp; <b>bold</b>\"");
        // Text, not elements (an alert opened by one would also fail the next command).
        assertThat(browser.findElements(By.cssSelector("main script, main img, main b"))).isEmpty();
        // The Print button is the console's own script: it runs under the policy.
        ((JavascriptExecutor) browser).executeScript("window.printed = false; window.print = () => { window.printed = true; };");
        browser.findElement(By.id("print")).click();
        assertThat(((JavascriptExecutor) browser).executeScript("return window.printed")).isEqualTo(true);
    }

    /** Clicks start a navigation; wait for it before reading the page. */
    private void waitForUrl(String part) {
        new WebDriverWait(browser, Duration.ofSeconds(10)).until(urlContains(part));
    }

    private WebElement deliveryRow(String channel) {
        return browser.findElement(By.cssSelector("#deliveries tr[data-channel='" + channel + "']"));
    }

    private static List<String> cells(WebElement row) {
        return row.findElements(By.tagName("td")).stream().map(WebElement::getText).toList();
    }

    private void awaitDeliveryState(String key, String channel, String state) {
        await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.state FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = ?", String.class, key, channel).contains(state));
    }

    private String base() {
        return "http://localhost:" + port;
    }
}
