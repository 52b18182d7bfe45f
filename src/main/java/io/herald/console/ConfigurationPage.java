package io.herald.console;

import java.security.Principal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.herald.notification.NotificationCatalog;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * For admins: the configuration Herald is running with, as people ask about it ("why did this go
 * by SMS?", "how long do we retry?"): the notification catalog and each channel's and the delivery
 * settings in force. Secrets (passwords, tokens, webhook secrets) are never shown.
 */
@Controller
public class ConfigurationPage {

    /** Settings shown per channel, as herald.<channel>.<setting>; retry settings fall back to herald.delivery.*. */
    static final List<String> CHANNEL_SETTINGS = List.of("url", "host", "port", "from", "rate-per-second", "max-retries",
            "retry-delay-ms", "max-retry-delay-ms");
    static final List<String> CHANNELS = List.of("mail", "sms", "push", "in-app", "ops-webhook");
    static final List<String> GENERAL = List.of("herald.delivery.park-delays", "herald.delivery.parked-poll-ms",
            "herald.delivery.sending-timeout", "herald.delivery.breaker.window", "herald.delivery.breaker.minimum-calls",
            "herald.delivery.breaker.open-seconds", "herald.alerts.poll-interval-ms", "herald.alerts.repeat-after",
            "herald.console.base-url", "herald.kafka.brokers", "herald.kafka.consumers", "herald.crm.enabled",
            "herald.crm.outbox-table", "herald.catalog", "herald.templates-dir", "herald.mappings-dir", "herald.routes");

    private final NotificationCatalog catalog;
    private final Environment environment;

    public ConfigurationPage(NotificationCatalog catalog, Environment environment) {
        this.catalog = catalog;
        this.environment = environment;
    }

    @GetMapping("/console/config")
    public String configuration(Principal who, Model model) {
        model.addAttribute("user", ConsoleUser.of(who));
        model.addAttribute("catalogFile", catalog.source());
        model.addAttribute("catalog", catalog.entries().stream().sorted(Comparator.comparing(NotificationCatalog.Entry::type)).toList());
        Map<String, Map<String, String>> channels = new LinkedHashMap<>();
        for (String channel : CHANNELS) {
            Map<String, String> settings = new LinkedHashMap<>();
            for (String setting : CHANNEL_SETTINGS) {
                String value = environment.getProperty("herald." + channel + "." + setting);
                if (value == null && setting.contains("retr")) {
                    value = environment.getProperty("herald.delivery." + setting);
                }
                if (value != null && !value.isBlank()) {
                    settings.put(setting, setting.equals("url") ? hostOnly(value) : value);
                }
            }
            channels.put(channel, settings);
        }
        model.addAttribute("channels", channels);
        List<String[]> general = new ArrayList<>();
        GENERAL.forEach(key -> general.add(new String[] {key, environment.getProperty(key, "–")}));
        model.addAttribute("general", general);
        model.addAttribute("profiles", String.join(", ", environment.getActiveProfiles()));
        return "config";
    }

    /** A webhook URL's path can be its secret (Slack's are), so only where it points is shown. */
    static String hostOnly(String url) {
        try {
            java.net.URI uri = java.net.URI.create(url);
            return uri.getScheme() + "://" + uri.getAuthority() + "/…";
        } catch (IllegalArgumentException e) {
            return "(set)";
        }
    }
}
