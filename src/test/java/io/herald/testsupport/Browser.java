package io.herald.testsupport;

import java.io.File;
import java.nio.file.Files;
import java.time.Duration;

import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium driven by ChromeDriver, both from Debian (packages chromium and chromium-driver;
 * .ci/run installs them). Paths can be moved with -Dherald-test.chromium / -Dherald-test.chromedriver.
 * The flags keep Chromium off the network it cannot reach here (updates, sync, Google lookups).
 */
public final class Browser {

    private Browser() {
    }

    public static WebDriver start() throws Exception {
        String chromium = System.getProperty("herald-test.chromium", "/usr/bin/chromium");
        String chromedriver = System.getProperty("herald-test.chromedriver", "/usr/bin/chromedriver");
        if (!new File(chromium).canExecute() || !new File(chromedriver).canExecute()) {
            throw new IllegalStateException("the console tests need Chromium and ChromeDriver: apt-get install chromium chromium-driver"
                    + " (looked for " + chromium + " and " + chromedriver + ")");
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000", "--user-data-dir=" + Files.createTempDirectory("herald-chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(chromedriver)).usingAnyFreePort().build();
        WebDriver browser = new ChromeDriver(service, options);
        browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        return browser;
    }

    /**
     * Logs in through the console's login form, and returns once the answer's page has replaced the form (a click does not
     * wait for the page it leads to: a look for the next page's elements right after it could still see the form).
     */
    public static void logIn(WebDriver browser, String baseUrl, String account) {
        String[] userAndPassword = account.split(":", 2);
        browser.get(baseUrl + "/console");
        browser.findElement(By.id("username")).sendKeys(userAndPassword[0]);
        browser.findElement(By.id("password")).sendKeys(userAndPassword[1]);
        WebElement submit = browser.findElement(By.cssSelector("button[type=submit]"));
        submit.click();
        // Gone from the page: stale, or (asked while the page was being replaced) "Node with given id does not belong to
        // the document", which Chrome reports as a plain WebDriverException that stalenessOf does not count as stale.
        new WebDriverWait(browser, Duration.ofSeconds(30)).until(ignored -> gone(submit));
    }

    private static boolean gone(WebElement element) {
        try {
            element.isEnabled();
            return false;
        } catch (org.openqa.selenium.StaleElementReferenceException e) {
            return true;
        } catch (org.openqa.selenium.WebDriverException e) {
            if (String.valueOf(e.getMessage()).contains("does not belong to the document")) {
                return true;
            }
            throw e;
        }
    }
}
