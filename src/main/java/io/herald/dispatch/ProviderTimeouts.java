package io.herald.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import io.herald.config.UnknownSettings;

/**
 * Checks at startup that every provider and alert call has a timeout, and that a delivery's worst
 * case (every try timing out, with the retry delays between them) ends well within
 * herald.delivery.sending-timeout, after which a delivery still SENDING is taken for a crash
 * (StaleSendings). The timeouts themselves are applied by the routes (camel-http connectTimeout,
 * responseTimeout, soTimeout) and by SmtpConnections (mail.smtp.connectiontimeout, timeout,
 * writetimeout). A missing, zero (infinite) or too long timeout stops Herald with the key to fix.
 */
@Component
public class ProviderTimeouts {

    /** Channel -> configuration prefix and the timeouts one attempt can wait for in turn. */
    private static final Map<String, List<String>> ATTEMPT = Map.of(
            "herald.mail", List.of("connect-timeout-ms", "read-timeout-ms", "write-timeout-ms"),
            "herald.sms", List.of("connect-timeout-ms", "response-timeout-ms"),
            "herald.push", List.of("connect-timeout-ms", "response-timeout-ms"),
            "herald.ops-webhook", List.of("connect-timeout-ms", "response-timeout-ms"));
    private static final List<String> ALERTS = List.of("connect-timeout-ms", "response-timeout-ms");

    public ProviderTimeouts(Environment env) {
        Duration sending = DurationStyle.detectAndParse(env.getRequiredProperty("herald.delivery.sending-timeout"));
        List<String> problems = new ArrayList<>();
        ATTEMPT.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(channel -> {
            String prefix = channel.getKey();
            long attempt = 0;
            for (String name : channel.getValue()) {
                attempt += positive(env, prefix + "." + name, problems);
            }
            if (prefix.equals("herald.push") && !env.getProperty("herald.push.service-account-file", "").isBlank()) {
                attempt *= 2;   // a try may first wait as long for a new access token (PushAccessTokens)
            }
            long retries = setting(env, prefix, "max-retries");
            long delay = setting(env, prefix, "max-retry-delay-ms");
            long worst = (retries + 1) * attempt + retries * delay;
            if (attempt > 0 && worst >= sending.toMillis()) {
                problems.add(String.join(" + ", channel.getValue().stream().map(n -> prefix + "." + n).toList())
                        + " (" + attempt + " ms per try) with " + retries + " retries and up to " + delay + " ms between them can keep a"
                        + " delivery SENDING for " + worst + " ms, not below herald.delivery.sending-timeout (" + sending
                        + "), after which it is taken for a crash: lower the timeouts or the retries, or raise the sending timeout");
            }
        });
        long alert = 0;
        for (String name : ALERTS) {
            alert += positive(env, "herald.alerts." + name, problems);
        }
        if (alert * 2 > sending.toMillis()) {
            problems.add("herald.alerts.connect-timeout-ms + herald.alerts.response-timeout-ms (" + alert
                    + " ms) must be well below herald.delivery.sending-timeout (" + sending + "): at most half of it");
        }
        // The alert post and the Kafka sends of the CRM poller wait inside a transaction: PostgreSQL must not end it meanwhile.
        long idle = 1000 * number(env, "herald.infrastructure.db-idle-in-transaction-timeout-s", 120);
        long kafkaSend = number(env, "herald.infrastructure.kafka-send-timeout-ms", 6000);
        if (Math.max(alert, kafkaSend) >= idle) {
            problems.add("herald.infrastructure.db-idle-in-transaction-timeout-s (" + idle / 1000 + " s) must be above the longest wait"
                    + " inside one of Herald's transactions: herald.alerts.connect-timeout-ms + herald.alerts.response-timeout-ms ("
                    + alert + " ms) and herald.infrastructure.kafka-send-timeout-ms (" + kafkaSend + " ms); PostgreSQL would end the"
                    + " transaction mid-wait and the alert would be posted again: raise it, or lower those timeouts");
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Herald cannot start: provider timeouts are not usable (correct each where it is set,"
                    + " named in brackets): " + String.join("; ", problems));
        }
    }

    /** The setting as a number; the default when it is not one (its binding, InfrastructureSettings, says so with the key). */
    private static long number(Environment env, String key, long otherwise) {
        try {
            return Long.parseLong(env.getProperty(key, String.valueOf(otherwise)).strip());
        } catch (NumberFormatException notANumber) {
            return otherwise;
        }
    }

    private static long positive(Environment env, String key, List<String> problems) {
        String raw = env.getProperty(key);
        try {
            long value = raw == null || raw.isBlank() ? -1 : Long.parseLong(raw.strip());
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException notANumber) {
            // reported below
        }
        problems.add(key + " (" + UnknownSettings.where(env, key) + ") must be a number of milliseconds above 0 (0 would wait for ever); was '"
                + (raw == null ? "" : raw) + "'");
        return 0;
    }

    private static long setting(Environment env, String prefix, String name) {
        Long value = env.getProperty(prefix + "." + name, Long.class);
        return value != null ? value : env.getRequiredProperty("herald.delivery." + name, Long.class);
    }
}
