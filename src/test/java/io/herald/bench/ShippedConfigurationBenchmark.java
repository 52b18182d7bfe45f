package io.herald.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import io.herald.testsupport.HttpSink;
import io.herald.testsupport.SmtpSink;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.YamlPropertiesFactoryBean;
import org.springframework.core.io.FileSystemResource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * "Shipped configuration", not a test ({@code mvn -Pbenchmark test -Dbenchmark.scenarios=ShippedConfigurationBenchmark}):
 * a burst of {@code -Dbenchmark.burst=1000} {@code billing.payment_failed} (email, SMS, ops webhook as a
 * digest: config/catalog.yaml as shipped) posted to the signed billing webhook, with config/application.yaml's
 * rate limits and delivery settings as shipped (the local profile's quick-feedback values are put back to
 * the shipped ones, and printed). Printed: how long until every customer email and SMS reached its
 * provider and until the ops digests were posted, the rate each channel ran at, and what bounds the
 * burst (each channel's rate limit: 1,000 SMS at 10/s take at least 100 s). Providers answer after
 * {@code -Dbenchmark.latency=PT0.15S}.
 */
class ShippedConfigurationBenchmark extends BenchmarkHerald {

    /** Local-profile keys that are where Herald is reached, not how it delivers: kept as the local profile sets them. */
    private static final List<String> WHERE_NOT_HOW = List.of("herald.topics.", ".url", "secret", "token", "account-sid", ".from", "herald.security.");

    private static final List<String> restored = new ArrayList<>();
    private static final List<String> kept = new ArrayList<>();

    @DynamicPropertySource
    static void shippedCatalogAndSettings(DynamicPropertyRegistry registry) {
        registry.add("herald.catalog", () -> Path.of("config", "catalog.yaml").toAbsolutePath().toString());
        Properties shipped = yaml("config/application.yaml");
        Properties local = yaml("config/application-local.yaml");
        // YAML numbers come as Integer, not String: read the values with get(), not getProperty().
        for (String key : local.keySet().stream().map(String::valueOf).sorted().toList()) {
            if (!key.startsWith("herald.") || WHERE_NOT_HOW.stream().anyMatch(key::contains)) {
                continue;
            }
            Object value = shipped.get(key);
            if (value != null) {
                registry.add(key, () -> value);
                restored.add(key + "=" + value);
            } else {
                kept.add(key + "=" + local.get(key));
            }
        }
    }

    /** A fixed-offset zone (Etc/GMT±h) whose local time is within an hour of noon now. */
    private static String middayZone() {
        int utcHour = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).getHour();
        int offset = 12 - utcHour;   // hours to add to UTC for noon
        if (offset > 14) {
            offset -= 24;
        } else if (offset < -12) {
            offset += 24;
        }
        // Etc/GMT zones have the sign reversed: Etc/GMT-3 is UTC+3.
        return offset == 0 ? "Etc/UTC" : "Etc/GMT" + (offset > 0 ? "-" : "+") + Math.abs(offset);
    }

    private static Properties yaml(String file) {
        YamlPropertiesFactoryBean yaml = new YamlPropertiesFactoryBean();
        yaml.setResources(new FileSystemResource(file));
        return yaml.getObject();
    }

    @Test
    void aBurstOfPaymentFailuresWithTheShippedRateLimits() {
        int burst = intSetting("benchmark.burst", 1000);
        Duration latency = durationSetting("benchmark.latency", "PT0.15S");
        seedCustomers(burst);
        // The shipped catalog holds billing notifications in the customer's quiet hours (21:00-08:00 local time): the
        // customers live where it is about noon now, so the burst measures the rate limits, not the night (run at night
        // with UTC customers, every email and SMS was SCHEDULED for 08:00 and nothing reached the sinks).
        String daytime = middayZone();
        jdbc.update("UPDATE customer SET time_zone = ? WHERE customer_id LIKE 'cus_bench%'", daytime);
        providers.latency(latency);
        mail.latency(latency);
        double mailRate = Double.parseDouble(setting(settings, "herald.mail.rate-per-second"));
        double smsRate = Double.parseDouble(setting(settings, "herald.sms.rate-per-second"));
        System.out.printf("%n===== Herald benchmark: shipped configuration, a burst of %d billing.payment_failed =====%n"
                        + "catalog: config/catalog.yaml (email, sms, ops_webhook as a digest); rate limits per s: mail %s, sms %s, ops webhook %s;"
                        + " digest every %s ms; providers answer after %d ms%n"
                        + "customers' time zone %s (about noon now: outside the shipped quiet hours)%n"
                        + "local-profile values put back to config/application.yaml's: %s%n"
                        + "local-profile values kept (application.yaml has no such key; the default applies the same): %s%n",
                burst, setting(settings, "herald.mail.rate-per-second"), setting(settings, "herald.sms.rate-per-second"),
                setting(settings, "herald.ops-webhook.rate-per-second"), setting(settings, "herald.ops-webhook.digest-interval-ms"),
                latency.toMillis(), daytime, restored, kept);

        String tag = nextRunTag();
        String keys = "billing:invoice.payment_failed:in_test" + tag;
        Map<String, Long> accepted = post(burst, 0, i -> paymentFailed(tag, i, burst));
        long first = Collections.min(accepted.values());
        long lastAccepted = Collections.max(accepted.values());
        Duration atMost = Duration.ofSeconds((long) (burst / Math.min(mailRate, smsRate)) * 3 + 180);
        boolean customers = awaitSent(keys, "email", burst, atMost) && awaitSent(keys, "sms", burst, atMost);
        boolean ops = awaitSent(keys, "ops_webhook", burst, atMost);

        Set<String> wanted = accepted.keySet();
        List<Long> email = mail.messages().stream().filter(m -> m.idempotencyKey() != null && m.idempotencyKey().startsWith(keys))
                .map(SmtpSink.Message::receivedAtMillis).sorted().toList();
        List<HttpSink.Request> sms = providers.requests(SMS_PATH).stream()
                .filter(r -> r.status() == 200 && r.idempotencyKey() != null && r.idempotencyKey().startsWith(keys)).toList();
        List<HttpSink.Request> digests = providers.requests(OPS_PATH).stream()
                .filter(r -> r.idempotencyKey() != null && r.idempotencyKey().startsWith("digest-")).toList();
        long lastEmail = email.isEmpty() ? first : email.get(email.size() - 1);
        long lastSms = sms.isEmpty() ? first : sms.get(sms.size() - 1).receivedAtMillis();
        long lastDigest = digests.isEmpty() ? first : digests.get(digests.size() - 1).receivedAtMillis();

        System.out.printf("burst accepted by the webhook in %.1f s (%d events); machine at the end: %s%n", (lastAccepted - first) / 1000.0,
                wanted.size(), machine());
        System.out.printf("every customer email sent    %6.1f s after the first event %s(%d emails, %.1f/s; at most %d in any second; limit %s/s)%n",
                (lastEmail - first) / 1000.0, customers ? "" : "NOT ALL ", email.size(), email.size() / Math.max(0.001, (lastEmail - first) / 1000.0),
                maxInAnySecond(email), setting(settings, "herald.mail.rate-per-second"));
        System.out.printf("every customer SMS sent      %6.1f s after the first event %s(%d SMS, %.1f/s; at most %d in any second; limit %s/s)%n",
                (lastSms - first) / 1000.0, customers ? "" : "NOT ALL ", sms.size(), sms.size() / Math.max(0.001, (lastSms - first) / 1000.0),
                providers.maxInAnyWindow(Duration.ofSeconds(1), r -> r.path().startsWith(SMS_PATH) && r.idempotencyKey() != null
                        && r.idempotencyKey().startsWith(keys)), setting(settings, "herald.sms.rate-per-second"));
        System.out.printf("every ops item posted        %6.1f s after the first event %s(%d digest posts for %d notifications)%n",
                (lastDigest - first) / 1000.0, ops ? "" : "NOT ALL ", digests.size(), sent(keys, "ops_webhook"));
        double emailBound = burst / mailRate;
        double smsBound = burst / smsRate;
        System.out.printf("what bounds it: the slowest customer channel's rate limit: %s (%d SMS at %.0f/s take at least %.0f s;"
                        + " %d emails at %.0f/s at least %.0f s); the digests follow the last dispatched item within one digest interval (%s ms)%n",
                smsBound >= emailBound ? "SMS" : "email", burst, smsRate, smsBound, burst, mailRate, emailBound,
                setting(settings, "herald.ops-webhook.digest-interval-ms"));
        double done = (Math.max(lastEmail, lastSms) - first) / 1000.0;
        double bound = Math.max(emailBound, smsBound);
        System.out.printf("measured vs bound: customers done after %.0f s; the rate limits alone would allow %.0f s (%.0f%% of it)%s%n",
                done, bound, 100 * bound / Math.max(0.001, done),
                done > 1.2 * bound ? String.format(": the limits do not explain it; the engine's own pace with providers answering after %d ms"
                        + " bounds this burst (%.1f notifications/s)", latency.toMillis(), burst / Math.max(0.001, done)) : "");
    }

    private static int maxInAnySecond(List<Long> sortedTimes) {
        int max = 0;
        int from = 0;
        for (int to = 0; to < sortedTimes.size(); to++) {
            while (sortedTimes.get(to) - sortedTimes.get(from) >= 1000) {
                from++;
            }
            max = Math.max(max, to - from + 1);
        }
        return max;
    }
}
