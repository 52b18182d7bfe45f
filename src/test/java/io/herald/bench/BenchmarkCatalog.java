package io.herald.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * config/catalog.yaml with {@code support.agent_replied} sent on all three of its channels (push, SMS
 * and email: strategy all instead of first-success). It is the one shipped type whose templates cover
 * the three customer channels with three different providers (SMTP and two HTTP APIs), so each
 * notification is exactly three deliveries that reach a customer, and an SMS outage can be set beside
 * email and push of the same burst. (billing.payment_failed has no push, and its third channel is the
 * internal ops webhook, which ships as a digest, not one post per notification.)
 */
final class BenchmarkCatalog {

    private static final String SHIPPED = "strategy: first-success\n    channels: [push, sms, email]";

    private BenchmarkCatalog() {
    }

    static String agentRepliedOnAllThreeChannels() {
        try {
            String shipped = Files.readString(Path.of("config", "catalog.yaml"));
            int at = shipped.indexOf("support.agent_replied:");
            if (at < 0 || shipped.indexOf(SHIPPED, at) < 0) {
                throw new IllegalStateException("config/catalog.yaml: support.agent_replied no longer reads '" + SHIPPED
                        + "'; update the benchmark's catalog (io.herald.bench.BenchmarkCatalog)");
            }
            Path copy = Path.of("target", "benchmark-catalog.yaml").toAbsolutePath();
            Files.createDirectories(copy.getParent());
            Files.writeString(copy, shipped.substring(0, at) + shipped.substring(at).replaceFirst(java.util.regex.Pattern.quote(SHIPPED),
                    "strategy: all\n    channels: [push, sms, email]"));
            return copy.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
