package io.herald.config;

import java.util.List;
import java.util.Map;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.incidents.notices.*: customer-facing incident notices (routes/incidents-webhook.camel.yaml, io.herald.incidents).
 * An Alertmanager alert names the customers it affects by the annotation {@code customers} ("cus_a,cus_b") or by the label
 * (or annotation) {@code segment} naming one of the segments below; each named customer gets one notice of notice-type,
 * held for approval, and after the incident is resolved one follow-up of resolved-type. Both types must be in the
 * notification catalog with {@code approval: required}, or startup stops naming the key; without them notices are off.
 *
 * @param noticeType   the catalog type of the notice sent while the incident fires
 * @param resolvedType the catalog type of the follow-up sent once it is resolved, to customers whose notice was approved
 * @param segments     named groups of customers an alert can name by its segment label: segment name to customer ids
 *                     (e.g. herald.incidents.notices.segments.eu-checkout=cus_a,cus_b)
 * @param maxCustomers the most customers one incident may name (its customers annotations and segments together); an
 *                     incident naming more creates no notices at all (nothing is cut), and its ops post says how many it
 *                     named, this cap and what to do
 */
@Validated
@ConfigurationProperties("herald.incidents.notices")
public record IncidentSettings(@NotBlank @DefaultValue("incident.notice") String noticeType,
                               @NotBlank @DefaultValue("incident.resolved") String resolvedType,
                               Map<String, List<String>> segments,
                               @Positive @Max(1_000_000) @DefaultValue("10000") int maxCustomers) {

    public IncidentSettings {
        segments = segments == null ? Map.of() : Map.copyOf(segments);
        segments.forEach((name, customers) -> {
            if (customers == null || customers.isEmpty() || customers.stream().anyMatch(c -> c == null || c.isBlank())) {
                throw new IllegalArgumentException("herald.incidents.notices.segments." + name
                        + " must list customer ids (comma-separated), none of them empty");
            }
        });
    }

    /**
     * The customers of the segment an alert names, or null when none is defined. Names compare by their letters and digits,
     * in any case: a segment set from the environment (HERALD_INCIDENTS_NOTICES_SEGMENTS_EU_CHECKOUT) binds as "eu.checkout",
     * and an alert naming "eu-checkout" or "EU_Checkout" finds it.
     */
    public List<String> segment(String name) {
        String wanted = comparable(name);
        return segments.entrySet().stream().filter(e -> comparable(e.getKey()).equals(wanted)).map(Map.Entry::getValue)
                .findFirst().orElse(null);
    }

    private static String comparable(String name) {
        return name == null ? "" : name.replaceAll("[^\\p{L}\\p{N}]", "").toLowerCase(java.util.Locale.ROOT);
    }
}
