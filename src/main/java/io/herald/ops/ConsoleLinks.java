package io.herald.ops;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

import io.herald.config.ConsoleSettings;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Links into Herald's console (herald.console.base-url), so an alert takes the reader straight to
 * what needs a look: the failures list with filters, one notification, or one quarantined event.
 */
@Component
public class ConsoleLinks {

    private final String base;

    @Autowired
    public ConsoleLinks(ConsoleSettings console) {
        this(console.baseUrl());
    }

    public ConsoleLinks(String base) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /** The failures list, filtered (filters in the order given; empty values left out). */
    public String failures(String... nameValuePairs) {
        Map<String, String> filters = new LinkedHashMap<>();
        for (int i = 0; i + 1 < nameValuePairs.length; i += 2) {
            if (nameValuePairs[i + 1] != null && !nameValuePairs[i + 1].isBlank()) {
                filters.put(nameValuePairs[i], nameValuePairs[i + 1]);
            }
        }
        String query = filters.entrySet().stream()
                .map(f -> f.getKey() + "=" + URLEncoder.encode(f.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return base + "/console/failures" + (query.isEmpty() ? "" : "?" + query);
    }

    public String notification(long notificationId) {
        return base + "/console/notifications/" + notificationId;
    }

    /** The Rejected webhooks page for one source. */
    public String rejected(String source) {
        return base + "/console/rejected?source=" + URLEncoder.encode(source, StandardCharsets.UTF_8);
    }

    public String quarantined(long unroutedEventId) {
        return base + "/console/quarantine/" + unroutedEventId;
    }
}
