package io.herald.config;

import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.helpdesk.*: the helpdesk Herald writes private ticket notes to (Zendesk-style API) when a support notification's
 * delivery reaches an outcome (issue 13 point 6; which types and outcomes: ticket-notes in config/catalog.yaml).
 *
 * @param enabled           queue and post ticket notes (false: none are queued nor posted)
 * @param url               the helpdesk's base URL, e.g. https://acme.zendesk.com (notes go to PUT {url}/api/v2/tickets/{id}.json)
 * @param email             the helpdesk agent the API token belongs to (basic auth user {email}/token)
 * @param apiToken          the helpdesk API token (a secret: from the environment)
 * @param pollIntervalMs    how often recent outcomes are scanned for notes to queue, and due notes posted
 * @param lookback          outcomes recorded within this period are scanned (a type switched on later gets notes from then on)
 * @param batchSize         notes posted per poll at most; more wait for the next poll
 * @param leaseMs           a note claimed by an instance that stopped is posted again after this
 * @param connectTimeoutMs  the note post's connect timeout (default: herald.delivery.timeouts.connect-ms)
 * @param responseTimeoutMs the note post's response timeout (default: herald.delivery.timeouts.response-ms)
 * @param retryDelayMs      a note the helpdesk could not take (429, 5xx, no answer) is posted again after this, doubling
 *                          (or after the helpdesk's Retry-After)
 * @param maxRetryDelayMs   the longest wait between two posts of a note
 * @param maxAttempts       posts of one note at most; then it is FAILED with the last reason
 */
@Validated
@ConfigurationProperties("herald.helpdesk")
public record HelpdeskSettings(@DefaultValue("false") boolean enabled,
                               @NotNull @DefaultValue("") @jakarta.validation.constraints.Pattern(regexp = WebAddresses.HTTP, message = WebAddresses.NOT_HTTP) String url,
                               @NotNull @DefaultValue("") String email,
                               @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String apiToken,
                               @Positive @DefaultValue("5000") long pollIntervalMs,
                               @NotNull @DurationMin(minutes = 1, message = Durations.AT_LEAST_A_MINUTE) @DefaultValue("PT15M") Duration lookback,
                               @Positive @Max(1000) @DefaultValue("50") int batchSize,
                               @Min(value = 10000, message = "must be at least 10000 ms: a note being posted must not be taken over")
                               @DefaultValue("60000") long leaseMs,
                               @Positive Long connectTimeoutMs,
                               @Positive Long responseTimeoutMs,
                               @Positive @DefaultValue("10000") long retryDelayMs,
                               @Positive @DefaultValue("600000") long maxRetryDelayMs,
                               @Positive @DefaultValue("10") int maxAttempts) {

    public HelpdeskSettings {
        String address = url == null ? "" : url.strip();
        if (enabled) {
            check(!address.isEmpty(), "herald.helpdesk.url", "is required when herald.helpdesk.enabled is true: the helpdesk's base URL,"
                    + " e.g. https://acme.zendesk.com (HERALD_HELPDESK_URL)");
            check(address.startsWith("http://") || address.startsWith("https://"), "herald.helpdesk.url",
                    "must start with https:// (or http:// for a local sandbox), was '" + address + "'");
            check(email != null && !email.isBlank(), "herald.helpdesk.email",
                    "is required when herald.helpdesk.enabled is true: the helpdesk agent the API token belongs to (HERALD_HELPDESK_EMAIL)");
            check(apiToken != null && !apiToken.isBlank(), "herald.helpdesk.api-token",
                    "is required when herald.helpdesk.enabled is true: the helpdesk's API token (HERALD_HELPDESK_API_TOKEN)");
            check(maxRetryDelayMs >= retryDelayMs, "herald.helpdesk.max-retry-delay-ms",
                    "must be at least herald.helpdesk.retry-delay-ms (" + retryDelayMs + "), was " + maxRetryDelayMs);
            // The lease is renewed right before each post (TicketNotes.stillPending); a post that may outlast it could be taken
            // over by another instance's claim and posted twice. The longest post waits connect-timeout-ms for a pooled
            // connection, as long again to connect, then response-timeout-ms.
            if (connectTimeoutMs != null && responseTimeoutMs != null) {
                long postMs = 2 * connectTimeoutMs + responseTimeoutMs;
                check(leaseMs > postMs + 5_000, "herald.helpdesk.lease-ms", "must be more than the longest post, 2 x"
                        + " herald.helpdesk.connect-timeout-ms + response-timeout-ms (" + postMs + " ms), plus 5000 ms to record it, or"
                        + " another instance may take a note over while it is being posted and post it again; was " + leaseMs);
            }
        }
    }

    /** A settings check: the failure box shows the key, its value and where it was set, with this as the reason. */
    private static void check(boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(key + " " + problem);
        }
    }
}
