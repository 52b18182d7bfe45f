package io.herald.testsupport;

import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import org.apache.camel.CamelContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What the ops team's webhook (the WireMock sandbox) received as failure alerts: posts whose
 * Idempotency-Key starts with "herald-alert:" (channel posts of ops_webhook notifications carry
 * their notification key instead), with the status the webhook answered.
 */
public final class OpsAlerts {

    public record Post(int status, String text) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String OPS_PATH = "/services/T0LOCAL/B0LOCAL/local-demo-ops";

    private OpsAlerts() {
    }

    /** Every alert post so far, oldest first, with the webhook's answer. */
    public static List<Post> posts(WireMockServer webhook) {
        return postsAt(webhook, OPS_PATH);
    }

    /** Every alert post to the ops webhook at {@code path} (a test's own Herald may post to one of its own), oldest first. */
    public static List<Post> postsAt(WireMockServer webhook, String path) {
        return webhook.getAllServeEvents().stream()
                .filter(e -> e.getRequest().getUrl().startsWith(path))
                .filter(e -> String.valueOf(e.getRequest().getHeader("Idempotency-Key")).startsWith("herald-alert:"))
                .sorted((a, b) -> a.getRequest().getLoggedDate().compareTo(b.getRequest().getLoggedDate()))
                .map(OpsAlerts::post).toList();
    }

    /** The alerts the webhook accepted whose text contains every one of the fragments. */
    public static List<String> accepted(WireMockServer webhook, String... fragments) {
        return acceptedAt(webhook, OPS_PATH, fragments);
    }

    /** The alerts the ops webhook at {@code path} accepted whose text contains every one of the fragments. */
    public static List<String> acceptedAt(WireMockServer webhook, String path, String... fragments) {
        return postsAt(webhook, path).stream().filter(p -> p.status() / 100 == 2).map(Post::text)
                .filter(text -> List.of(fragments).stream().allMatch(text::contains)).toList();
    }

    /**
     * Other tests' failures share this database: with the alert poll stopped, count everything not
     * yet alerted as alerted and forget which kinds were announced, so a test starts from a quiet ops
     * channel, then start the poll again.
     */
    public static void quiet(CamelContext camel, JdbcTemplate jdbc) throws Exception {
        camel.getRouteController().stopRoute("failure-alerts");
        try {
            jdbc.update("UPDATE delivery SET alerted_at = now() WHERE alerted_at IS NULL"
                    + " AND (state IN ('FAILED', 'UNCERTAIN') OR window_missed_at IS NOT NULL)");
            jdbc.update("UPDATE unrouted_event SET alerted_at = now() WHERE alerted_at IS NULL AND outcome = 'QUARANTINED'");
            jdbc.update("UPDATE dead_letter SET alerted_at = now() WHERE alerted_at IS NULL");
            jdbc.update("UPDATE inbound_rejection SET alerted_at = now() WHERE alerted_at IS NULL AND authenticated");
            jdbc.update("DELETE FROM alert_group");
        } finally {
            camel.getRouteController().startRoute("failure-alerts");
        }
    }

    private static Post post(ServeEvent event) {
        try {
            return new Post(event.getResponse().getStatus(), JSON.readTree(event.getRequest().getBodyAsString()).path("text").asText());
        } catch (Exception e) {
            return new Post(event.getResponse().getStatus(), event.getRequest().getBodyAsString());
        }
    }
}
