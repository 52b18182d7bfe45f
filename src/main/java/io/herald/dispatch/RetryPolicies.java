package io.herald.dispatch;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.apache.camel.Exchange;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import io.herald.config.UnknownSettings;

/**
 * Per-channel retry policy from configuration: herald.&lt;channel&gt;.max-retries, .retry-delay-ms and
 * .max-retry-delay-ms, each falling back to herald.delivery.*. At most ONE short in-process retry
 * (max-retries 0 or 1, checked at startup): a retry holds the consumer thread, so anything longer is
 * the parking's job (ParkedDeliveries: backoff with jitter, re-driven in batches at the channel's
 * rate), which holds nothing. Used as retryWhile by the channel
 * routes' error handling: says whether to retry once more and sets that retry's delay, exponential
 * with ±20% jitter, or what the provider asked for with Retry-After. A Retry-After longer than
 * max-retry-delay-ms is not waited for in-process: the delivery goes straight to parking
 * (ParkedDeliveries), so it does not hold its consumer thread that long. (A call the open circuit
 * breaker refused never gets here: routes/error-handling.camel.yaml parks it at once.)
 */
@Component
public class RetryPolicies {

    /** Channel name -> its configuration prefix. */
    private static final Map<String, String> PREFIX = ChannelSettings.CHANNELS.stream()
            .collect(java.util.stream.Collectors.toMap(channel -> channel, ChannelSettings::prefix));

    private final Environment env;

    /** In-process retries hold their consumer thread: one short retry at most, then the delivery is parked. */
    static final int MAX_IN_PROCESS_RETRIES = 1;

    public RetryPolicies(Environment env) {
        this.env = env;
        for (String prefix : new java.util.TreeSet<>(PREFIX.values())) {
            checkRetries(env, prefix + ".max-retries", env.getProperty(prefix + ".max-retries"));
        }
        checkRetries(env, "herald.delivery.max-retries", env.getRequiredProperty("herald.delivery.max-retries"));
    }

    private static void checkRetries(Environment env, String key, String value) {
        if (value == null) {
            return;
        }
        int retries;
        try {
            retries = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            retries = -1;
        }
        if (retries < 0 || retries > MAX_IN_PROCESS_RETRIES) {
            throw new IllegalStateException(key + " (" + UnknownSettings.where(env, key) + ") must be 0 or 1, not '" + value + "': an in-process retry holds its consumer thread, so Herald retries at most"
                    + " once in-process and then parks the delivery (herald.delivery.park-delays)");
        }
    }

    public boolean retryAgain(Exchange exchange) {
        String prefix = PREFIX.getOrDefault(exchange.getProperty(ChannelDelivery.CHANNEL, "", String.class), "herald.delivery");
        int retry = exchange.getIn().getHeader(Exchange.REDELIVERY_COUNTER, 1, Integer.class);
        if (retry > setting(prefix, "max-retries")) {
            return false;
        }
        long cap = setting(prefix, "max-retry-delay-ms");
        Long retryAfter = exchange.getProperty(ProviderErrors.RETRY_AFTER_MS, Long.class);
        if (retryAfter != null && retryAfter > cap) {
            // The provider asks for a longer wait than a delivery is held in-process: it is parked, and
            // ParkedDeliveries schedules its next attempt no earlier than the provider asked.
            return false;
        }
        long delay;
        if (retryAfter != null) {
            delay = retryAfter;
        } else {
            long exponential = Math.min(cap, setting(prefix, "retry-delay-ms") << Math.min(retry - 1, 20));
            delay = (long) (exponential * ThreadLocalRandom.current().nextDouble(0.8, 1.2));
        }
        exchange.getIn().setHeader(Exchange.REDELIVERY_DELAY, delay);
        return true;
    }

    private long setting(String prefix, String name) {
        Long value = env.getProperty(prefix + "." + name, Long.class);
        return value != null ? value : env.getRequiredProperty("herald.delivery." + name, Long.class);
    }
}
