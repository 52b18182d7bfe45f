package io.herald.helpdesk;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.HelpdeskSettings;
import io.herald.notification.NotificationCatalog;
import org.apache.camel.Exchange;
import org.apache.camel.component.http.HttpMethods;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Private helpdesk ticket notes for the outcomes of support notifications (issue 13 point 6; routes/ticket-notes.camel.yaml).
 * The one writer of ticket_note: queues a note per delivery and outcome of the types with ticket-notes in the catalog
 * (a scan of recent outcomes; the unique (delivery, outcome) keeps it to one whatever repeats), claims due notes with a
 * lease, builds each Zendesk-style post and records what came of it: POSTED, PENDING again later (the helpdesk was busy or
 * away), or FAILED with a reason an operator can act on (the helpdesk refused it, or it was tried herald.helpdesk.max-attempts times).
 * The erasure of a customer removes the text of the notes on their deliveries and CANCELs those not posted yet ({@link #erase});
 * no note is queued for an erased customer's deliveries after it.
 */
@Component
public class TicketNotes {

    private static final Logger log = LoggerFactory.getLogger(TicketNotes.class);
    static final String NOTE = "heraldTicketNote";
    static final String URL = "heraldTicketNoteUrl";
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    /** One note claimed for posting, until {@code leasedUntil} (its next_attempt_at as the claim set it). */
    public record Note(long id, long deliveryId, String outcome, String ticketId, String body, int attempts, java.sql.Timestamp leasedUntil) {
    }

    /** One note as the console lists it. */
    public record Listed(long id, long notificationId, String channel, String outcome, String ticketId, String state, int attempts,
                         String reason, Instant updatedAt, Instant postedAt) {
    }

    private final JdbcTemplate jdbc;
    private final NotificationCatalog catalog;
    private final ObjectMapper json;
    private final HelpdeskSettings settings;
    private final io.herald.dispatch.OutcomeWrites outcomes;
    private final String base;
    private final String authorization;

    public TicketNotes(JdbcTemplate jdbc, NotificationCatalog catalog, ObjectMapper json, HelpdeskSettings settings,
                       io.herald.dispatch.OutcomeWrites outcomes) {
        this.jdbc = jdbc;
        this.outcomes = outcomes;
        this.catalog = catalog;
        this.json = json;
        this.settings = settings;
        String url = settings.url().strip();
        if (settings.enabled()) {   // its settings are checked by HelpdeskSettings
            if (catalog.ticketNotes().isEmpty()) {
                log.info("herald.helpdesk.enabled is true but no type in {} has ticket-notes: no ticket notes are written", catalog.source());
            }
        } else if (!catalog.ticketNotes().isEmpty()) {
            log.info("{} asks for ticket notes on {} but herald.helpdesk.enabled is false: none are written",
                    catalog.source(), catalog.ticketNotes().keySet());
        }
        this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        // Zendesk API token authentication: basic auth with "{email}/token" as user and the token as password.
        this.authorization = "Basic " + Base64.getEncoder().encodeToString(
                (settings.email().strip() + "/token:" + settings.apiToken().strip()).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Queues the notes for outcomes recorded within herald.helpdesk.lookback of deliveries whose type has ticket-notes:
     * one per delivery and outcome (a delivery sent and then delivered gets both, SENT first). Repeats (the scan again,
     * another instance, a second receipt of the same outcome) insert nothing. Returns how many were queued.
     */
    public int queue() {
        Map<String, Set<String>> on = catalog.ticketNotes();
        if (on.isEmpty()) {
            return 0;
        }
        List<String> pairs = new ArrayList<>();
        on.forEach((type, outcomes) -> outcomes.forEach(outcome -> pairs.add(type + ":" + outcome)));
        String wanted = String.join(",", pairs);
        String states = String.join(",", NotificationCatalog.TICKET_NOTE_OUTCOMES.stream().map(s -> "'" + s + "'").toList());
        List<Object[]> notes = new ArrayList<>();
        jdbc.query("""
                SELECT d.id, d.channel, d.state, d.recipient_masked, c.subject, c.rendered_body, d.reason, d.sent_at, d.updated_at, n.type,
                       coalesce(p.data ->> 'ticketId', n.canonical -> 'refs' ->> 'ticketId') AS ticket_id
                FROM delivery d JOIN notification n ON n.id = d.notification_id
                LEFT JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                LEFT JOIN delivery_content c ON c.delivery_id = d.id
                WHERE d.state IN (%s) AND d.updated_at > now() - make_interval(secs => ?)
                  AND n.payload_removed_by IS DISTINCT FROM 'erasure'
                  AND coalesce(p.data ->> 'ticketId', n.canonical -> 'refs' ->> 'ticketId') IS NOT NULL
                  AND ((n.type || ':' || d.state = ANY(string_to_array(?, ','))
                        AND NOT EXISTS (SELECT 1 FROM ticket_note t WHERE t.delivery_id = d.id AND t.outcome = d.state))
                    OR (d.sent_at IS NOT NULL AND n.type || ':SENT' = ANY(string_to_array(?, ','))
                        AND NOT EXISTS (SELECT 1 FROM ticket_note t WHERE t.delivery_id = d.id AND t.outcome = 'SENT')))
                ORDER BY d.updated_at, d.id LIMIT 1000""".formatted(states), row -> {
            long deliveryId = row.getLong("id");
            String state = row.getString("state");
            Set<String> outcomes = on.get(row.getString("type"));
            Instant sentAt = instant(row.getTimestamp("sent_at"));
            Instant at = instant(row.getTimestamp("updated_at"));
            List<String> due = new ArrayList<>();
            if (sentAt != null && outcomes.contains("SENT")) {
                due.add("SENT");
            }
            if (!state.equals("SENT") && outcomes.contains(state)) {
                due.add(state);
            }
            for (String outcome : due) {
                String body = TicketNoteText.of(outcome, row.getString("channel"), row.getString("recipient_masked"), row.getString("subject"),
                        row.getString("rendered_body"), row.getString("reason"), sentAt, outcome.equals("SENT") ? sentAt : at);
                notes.add(new Object[] {deliveryId, outcome, row.getString("ticket_id"), body});
            }
        }, settings.lookback().toSeconds(), wanted, wanted);
        if (notes.isEmpty()) {
            return 0;
        }
        int queued = 0;
        for (int count : jdbc.batchUpdate("""
                INSERT INTO ticket_note (delivery_id, outcome, ticket_id, body) VALUES (?, ?, ?, ?)
                ON CONFLICT (delivery_id, outcome) DO NOTHING""", notes)) {
            queued += Math.max(count, 0);
        }
        log.debug("{} ticket note(s) queued", queued);
        return queued;
    }

    /**
     * The notes to post now, oldest first, each this instance's for herald.helpdesk.lease-ms (FOR UPDATE SKIP LOCKED). A note
     * whose post went out and whose lease ran out with nothing recorded (its instance stopped, or lost the database for longer
     * than the lease) is not among them: the helpdesk may have it, so it is FAILED saying so instead of posted again.
     */
    public List<Note> claim() {
        int stranded = jdbc.update("""
                UPDATE ticket_note SET state = 'FAILED', updated_at = now(),
                       reason = 'Herald was posting this note to ticket ' || ticket_id || ' when it stopped (or lost its database) and did'
                                || ' not learn whether the helpdesk took it; it is not posted again, which could put a second copy on the'
                                || ' ticket. Check the ticket and add the note by hand if it is missing'
                WHERE state = 'PENDING' AND post_started_at IS NOT NULL AND next_attempt_at <= now()""");
        if (stranded > 0) {
            log.warn("{} ticket note(s) whose post was cut off are FAILED for a person to check, not posted again", stranded);
        }
        List<Note> notes = new ArrayList<>(jdbc.query("""
                UPDATE ticket_note SET next_attempt_at = now() + make_interval(secs => ?), updated_at = now()
                WHERE id IN (SELECT id FROM ticket_note WHERE state = 'PENDING' AND next_attempt_at <= now()
                             ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
                RETURNING id, delivery_id, outcome, ticket_id, body, attempts, next_attempt_at""",
                (row, n) -> new Note(row.getLong("id"), row.getLong("delivery_id"), row.getString("outcome"), row.getString("ticket_id"),
                        row.getString("body"), row.getInt("attempts"), row.getTimestamp("next_attempt_at")),
                settings.leaseMs() / 1000.0, settings.batchSize()));
        notes.sort(Comparator.comparingLong(Note::id));
        return notes;
    }

    /**
     * Right before its post, whether the claimed note is still this instance's to post, read again with its text (its lease
     * renewed for the post): a note waits behind the other posts of its batch, and meanwhile an erasure of its customer may
     * have cancelled it and removed its text (erase), or its lease may have run out and another instance claimed it. Either
     * way it is not posted here. The body becomes the note as it stands now.
     */
    public boolean stillPending(Exchange exchange) {
        Note claimed = exchange.getMessage().getBody(Note.class);
        Note now = jdbc.query("""
                UPDATE ticket_note SET next_attempt_at = now() + make_interval(secs => ?), post_started_at = now()
                WHERE id = ? AND state = 'PENDING' AND next_attempt_at = ? RETURNING body, next_attempt_at""",
                (row, n) -> new Note(claimed.id(), claimed.deliveryId(), claimed.outcome(), claimed.ticketId(), row.getString("body"),
                        claimed.attempts(), row.getTimestamp("next_attempt_at")),
                settings.leaseMs() / 1000.0, claimed.id(), claimed.leasedUntil()).stream().findFirst().orElse(null);
        if (now == null) {
            log.info("Ticket note {} ({} of delivery {}) is no longer this instance's to post (cancelled by an erasure while it waited,"
                    + " or claimed by another instance after its lease ran out): not posted here", claimed.id(), claimed.outcome(),
                    claimed.deliveryId());
            return false;
        }
        exchange.getMessage().setBody(now);
        return true;
    }

    /** The post: PUT {url}/api/v2/tickets/{id}.json, {"ticket":{"comment":{"body":…,"public":false}}}, API token basic auth. */
    public void build(Exchange exchange) throws JsonProcessingException {
        Note note = exchange.getMessage().getBody(Note.class);
        exchange.setProperty(NOTE, note);
        exchange.setProperty(URL, base + "/api/v2/tickets/" + URLEncoder.encode(note.ticketId(), StandardCharsets.UTF_8) + ".json");
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, HttpMethods.PUT);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Authorization", authorization);
        exchange.getMessage().setBody(json.writeValueAsString(
                Map.of("ticket", Map.of("comment", Map.of("body", note.body(), "public", false)))));
    }

    /**
     * The helpdesk took it (2xx): POSTED, written until the database takes it. A write that met a database blip used to count
     * as a failed post: the note was posted again, a second copy on the ticket, with a reason saying the helpdesk had not taken it.
     */
    public void posted(Exchange exchange) {
        Note note = exchange.getProperty(NOTE, Note.class);
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        outcomes.untilWritten("The post of ticket note " + note.id(), () -> jdbc.update("""
                UPDATE ticket_note SET state = 'POSTED', attempts = attempts + 1, provider_status = ?, reason = NULL, posted_at = now(),
                                       updated_at = now()
                WHERE id = ? AND (state = 'PENDING' OR state = 'FAILED' AND post_started_at IS NOT NULL)""", status, note.id()));
        log.info("Ticket note {} ({} of delivery {}) posted to ticket {}", note.id(), note.outcome(), note.deliveryId(), note.ticketId());
    }

    /**
     * Not taken. A refusal (4xx other than 408/409/429) is FAILED at once with what to check; a busy or unreachable helpdesk
     * (408, 409, 429, 5xx, no connection, no answer in time) is posted again later, after its Retry-After or a doubling delay,
     * until herald.helpdesk.max-attempts, then FAILED with the last reason.
     */
    public void failed(Exchange exchange) {
        Note note = exchange.getProperty(NOTE, Note.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        HttpOperationFailedException http = httpError(cause);
        Integer status = http == null ? null : http.getStatusCode();
        int attempt = note.attempts() + 1;
        boolean transientTrouble = http == null || status >= 500 || status == 408 || status == 409 || status == 429;
        String reason;
        if (!transientTrouble) {
            reason = "The helpdesk refused the note for ticket " + note.ticketId() + ": " + refusal(status);
        } else if (attempt >= settings.maxAttempts()) {
            reason = "The helpdesk did not take the note for ticket " + note.ticketId() + " in " + attempt + " attempts; last: "
                    + trouble(http, cause) + ". Check the helpdesk's status; the outcome stays in Herald's console";
        } else {
            long delay = delayMs(http, note.attempts());
            Instant next = Instant.now().plusMillis(delay);
            reason = "The helpdesk did not take the note for ticket " + note.ticketId() + ": " + trouble(http, cause)
                    + "; posted again at " + CLOCK.format(next) + " (attempt " + attempt + " of " + settings.maxAttempts() + ")";
            jdbc.update("""
                    UPDATE ticket_note SET attempts = attempts + 1, provider_status = ?, reason = ?, post_started_at = NULL,
                                           next_attempt_at = now() + make_interval(secs => ?), updated_at = now()
                    WHERE id = ? AND state = 'PENDING'""", status, reason, delay / 1000.0, note.id());
            log.warn("Ticket note {}: {}", note.id(), reason, cause);
            return;
        }
        jdbc.update("""
                UPDATE ticket_note SET state = 'FAILED', attempts = attempts + 1, provider_status = ?, reason = ?, post_started_at = NULL,
                                       updated_at = now()
                WHERE id = ? AND state = 'PENDING'""", status, reason, note.id());
        log.warn("Ticket note {} FAILED: {}", note.id(), reason, cause);
    }

    /** What an erasure did to the notes of the customer's deliveries: texts removed, and of those, notes never to be posted. */
    public record Erased(int texts, int cancelled) {
    }

    /**
     * Erasure of a customer: every note on their deliveries keeps its row (ticket, outcome, state, times) with its text
     * replaced by {@code removed}; a note not posted yet ends CANCELLED with {@code reason} and is not posted any more.
     * A POSTED note is in the helpdesk already, where Herald cannot remove it (the operator does, in the helpdesk). A note
     * being posted at this very moment (claimed, its request on the way) may still reach the helpdesk; its row says
     * CANCELLED. Joins the caller's transaction.
     */
    public Erased erase(Collection<Long> notificationIds, String removed, String reason) {
        if (notificationIds.isEmpty()) {
            return new Erased(0, 0);
        }
        List<String> states = jdbc.queryForList("""
                UPDATE ticket_note t SET body = ?,
                       state = CASE WHEN t.state = 'PENDING' THEN 'CANCELLED' ELSE t.state END,
                       reason = CASE WHEN t.state = 'PENDING' THEN ? ELSE t.reason END,
                       updated_at = CASE WHEN t.state = 'PENDING' THEN now() ELSE t.updated_at END
                FROM delivery_all d WHERE d.id = t.delivery_id AND d.notification_id = ANY(CAST(? AS BIGINT[]))
                RETURNING t.state""", String.class, removed, reason,
                notificationIds.stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}")));
        return new Erased(states.size(), (int) states.stream().filter("CANCELLED"::equals).count());
    }

    /** The latest notes, newest first, for the console (failed and pending ones first when onlyOpen). */
    public List<Listed> recent(boolean onlyOpen, int limit) {
        return jdbc.query("""
                SELECT t.id, d.notification_id, d.channel, t.outcome, t.ticket_id, t.state, t.attempts, t.reason, t.updated_at, t.posted_at
                FROM ticket_note t JOIN delivery_all d ON d.id = t.delivery_id
                WHERE (? = false OR t.state IN ('PENDING', 'FAILED')) ORDER BY t.updated_at DESC, t.id DESC LIMIT ?""",
                (row, n) -> new Listed(row.getLong("id"), row.getLong("notification_id"), row.getString("channel"), row.getString("outcome"),
                        row.getString("ticket_id"), row.getString("state"), row.getInt("attempts"), row.getString("reason"),
                        instant(row.getTimestamp("updated_at")), instant(row.getTimestamp("posted_at"))), onlyOpen, limit);
    }

    /** The notes written about one customer's deliveries, newest first (the customer view), at most {@code limit}. */
    public List<Listed> forCustomer(String customerId, int limit) {
        return jdbc.query("""
                SELECT t.id, d.notification_id, d.channel, t.outcome, t.ticket_id, t.state, t.attempts, t.reason, t.updated_at, t.posted_at
                FROM ticket_note t JOIN delivery_all d ON d.id = t.delivery_id JOIN notification_all n ON n.id = d.notification_id
                WHERE n.customer_id = ? ORDER BY t.id DESC LIMIT ?""",
                (row, n) -> new Listed(row.getLong("id"), row.getLong("notification_id"), row.getString("channel"), row.getString("outcome"),
                        row.getString("ticket_id"), row.getString("state"), row.getInt("attempts"), row.getString("reason"),
                        instant(row.getTimestamp("updated_at")), instant(row.getTimestamp("posted_at"))), customerId, limit);
    }

    /** The notes of one notification's deliveries, oldest first (the notification's timeline). */
    public List<Listed> forNotification(long notificationId) {
        return jdbc.query("""
                SELECT t.id, d.notification_id, d.channel, t.outcome, t.ticket_id, t.state, t.attempts, t.reason, t.updated_at, t.posted_at
                FROM ticket_note t JOIN delivery_all d ON d.id = t.delivery_id WHERE d.notification_id = ? ORDER BY t.id""",
                (row, n) -> new Listed(row.getLong("id"), row.getLong("notification_id"), row.getString("channel"), row.getString("outcome"),
                        row.getString("ticket_id"), row.getString("state"), row.getInt("attempts"), row.getString("reason"),
                        instant(row.getTimestamp("updated_at")), instant(row.getTimestamp("posted_at"))), notificationId);
    }

    private long delayMs(HttpOperationFailedException http, int attemptsBefore) {
        Long retryAfter = http == null ? null : retryAfterMs(http);
        long doubling = settings.retryDelayMs() << Math.min(attemptsBefore, 20);
        return Math.min(settings.maxRetryDelayMs(), retryAfter != null ? Math.max(retryAfter, 1000) : doubling);
    }

    private static Long retryAfterMs(HttpOperationFailedException http) {
        if (http.getResponseHeaders() == null) {
            return null;
        }
        for (Map.Entry<String, String> header : http.getResponseHeaders().entrySet()) {
            if ("Retry-After".equalsIgnoreCase(header.getKey()) && header.getValue() != null) {
                return io.herald.dispatch.RetryAfter.millis(header.getValue(), java.time.Instant.now());   // seconds or an HTTP date
            }
        }
        return null;
    }

    private static String refusal(int status) {
        return switch (status) {
            case 401 -> "401 not authenticated; check herald.helpdesk.email and herald.helpdesk.api-token (HERALD_HELPDESK_API_TOKEN)"
                    + " and that token access is on in the helpdesk's API settings";
            case 403 -> "403 not allowed; give the agent herald.helpdesk.email access to this ticket's group";
            case 404 -> "404 ticket not found; check that the ticket still exists (deleted or merged tickets take no notes)";
            case 422 -> "422 the ticket cannot take a note (a closed ticket cannot be updated); the outcome is in Herald's console only";
            default -> status + " refused; check the helpdesk's API log for ticket updates by herald.helpdesk.email";
        };
    }

    private String trouble(HttpOperationFailedException http, Throwable cause) {
        if (http != null) {
            int status = http.getStatusCode();
            return status == 429 ? "429 too many requests (the helpdesk's rate limit)"
                    : status == 408 ? "408 request timeout"
                    : status == 409 ? "409 the ticket was being changed at the same time" : status + " the helpdesk is unavailable or failing";
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return "no answer within herald.helpdesk.response-timeout-ms (" + settings.responseTimeoutMs() + " ms)";
            }
            if (t instanceof ConnectException || t instanceof ConnectTimeoutException || t instanceof UnknownHostException) {
                return "the helpdesk at " + host() + " could not be reached";
            }
        }
        return "the call to the helpdesk at " + host() + " did not complete (details in Herald's log)";
    }

    private String host() {
        try {
            return URI.create(base).getHost();
        } catch (IllegalArgumentException e) {
            return "herald.helpdesk.url";
        }
    }

    private static HttpOperationFailedException httpError(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof HttpOperationFailedException http) {
                return http;
            }
        }
        return null;
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
