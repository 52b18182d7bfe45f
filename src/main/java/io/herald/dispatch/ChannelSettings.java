package io.herald.dispatch;

import java.util.List;
import java.util.Map;

/**
 * The channels Herald sends on, as config/catalog.yaml and the ledger name them, and where each one's
 * settings live in config/application.yaml (herald.&lt;settings&gt;.*: url, rate-per-second, max-in-flight...).
 */
public final class ChannelSettings {

    /** Every channel, in the order the console lists them. */
    public static final List<String> CHANNELS = List.of("email", "sms", "push", "in_app", "ops_webhook");

    private static final Map<String, String> SETTINGS = Map.of(
            "email", "mail", "sms", "sms", "push", "push", "in_app", "in-app", "ops_webhook", "ops-webhook");

    private ChannelSettings() {
    }

    /** The settings name of a channel: herald.&lt;this&gt;.* */
    public static String of(String channel) {
        String settings = SETTINGS.get(channel);
        if (settings == null) {
            throw new IllegalArgumentException("'" + channel + "' is not a channel Herald sends on (" + String.join(", ", CHANNELS) + ")");
        }
        return settings;
    }

    /** The full prefix of a channel's settings, e.g. herald.ops-webhook */
    public static String prefix(String channel) {
        return "herald." + of(channel);
    }
}
