package io.herald.approval;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.ApprovalSettings;
import io.herald.console.AuditTrail;
import io.herald.dispatch.ChannelSenders;
import io.herald.dispatch.MessagePreview;
import io.herald.ledger.DeliveryLedger;
import io.herald.schedule.QuietHoursAfterApproval;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.security.OidcNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Approval before send (issue 16). The owner of the approval table's state machine: AWAITING, then APPROVED,
 * REJECTED or EXPIRED, each decided by one conditional UPDATE, so a double click or two approvers at once decide
 * once; AWAITING again when a delivery about to be sent would not send what was approved ({@link #beforeSending}).
 * Dispatch holds a notification whose catalog type requires it ({@link #hold}); an approver approves it (its
 * deliveries are queued as dispatch would have) or rejects it (they end REJECTED with the approver's words), with a
 * comment, audited; four eyes: the person who triggered it (re-drove its event, resent it) may not approve it. One
 * not decided within herald.approvals.expire-after expires: its deliveries end EXPIRED and are alerted as failures.
 */
@Component
public class Approvals {

    /** The actor recorded for an expiry. */
    static final String HERALD = "Herald";
    /** The delivery state a notification's deliveries wait in until it is decided. */
    private static final String AWAITING = "AWAITING_APPROVAL";
    /** The approval's state until it is decided. */
    private static final String AWAITING_STATE = "AWAITING";

    /** One notification held by dispatch: its ledger id, why it needs approval, and the deliveries dispatch would have queued. */
    public record Hold(long notificationId, String rule, List<DeliveryLedger.Queued> deliveries) {
    }

    /** A notification awaiting approval as the console and the API show it. */
    public record Pending(long notificationId, String type, String customerId, String rule, Instant requestedAt, Instant expiresAt,
                          List<String> triggeredBy, List<MessagePreview.Channel> channels, String previewDigest, String reopenedBecause) {
    }

    /** What a decision did. */
    public record Decision(long notificationId, String state, String decidedBy, String comment, List<String> channels, String message) {
    }

    private static final Logger log = LoggerFactory.getLogger(Approvals.class);

    private final JdbcTemplate jdbc;
    private final OidcNames names;
    private final TransactionTemplate transaction;
    private final DeliveryLedger ledger;
    private final AuditTrail audit;
    private final ApprovalPreviews previews;
    private final ChannelSenders senders;
    private final ObjectMapper json;
    private final ApprovalSettings settings;
    private final QuietHoursAfterApproval quietHours;

    Approvals(JdbcTemplate jdbc, TransactionTemplate transaction, DeliveryLedger ledger, AuditTrail audit, ApprovalPreviews previews,
              ChannelSenders senders, ObjectMapper json, ApprovalSettings settings, OidcNames names, QuietHoursAfterApproval quietHours) {
        this.quietHours = quietHours;
        this.jdbc = jdbc;
        this.names = names;
        this.transaction = transaction;
        this.ledger = ledger;
        this.audit = audit;
        this.previews = previews;
        this.senders = senders;
        this.json = json;
        this.settings = settings;
    }

    /** Why this notification must wait for an approver (null: it is sent at once), from its catalog entry. */
    public static String holdReason(NotificationCatalog.Entry entry, CanonicalNotification notification) {
        String rule = entry.approval() == null ? null : entry.approval().holdReason(notification);
        // An incident's follow-up made from a "resolved" Alertmanager cut short: the approver checks the alerts left out first.
        String caution = rule == null ? null : io.herald.incidents.IncidentNotices.approverCaution(notification);
        return caution == null ? rule : rule + "; " + caution;
    }

    /**
     * Dispatch's hold: the deliveries become AWAITING_APPROVAL and each notification gets its approval row, expiring
     * after herald.approvals.expire-after. Safe to run again for the same notifications (a batch read again).
     */
    public void hold(List<Hold> holds) {
        for (Hold hold : holds) {
            ledger.hold(hold.deliveries(), AWAITING, "awaiting approval: " + hold.rule());
            jdbc.update("""
                    INSERT INTO approval (notification_id, rule, expires_at) VALUES (?, ?, now() + make_interval(secs => ?))
                    ON CONFLICT (notification_id) DO NOTHING""", hold.notificationId(), hold.rule(), settings.expireAfter().toSeconds());
        }
    }

    /** The notifications awaiting approval, oldest first, with what each channel would send (masked for viewers). */
    public List<Pending> awaiting(boolean masked, int limit) {
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT a.notification_id, a.rule, a.requested_at, a.expires_at, a.reopened_because, n.type, n.customer_id,
                       herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical
                FROM approval a JOIN notification n ON n.id = a.notification_id
                WHERE a.state = 'AWAITING' ORDER BY a.expires_at, a.notification_id LIMIT ?""", limit);
        List<Pending> pending = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            pending.add(pending(row, masked));
        }
        return pending;
    }

    public Optional<Pending> find(long notificationId, boolean masked) {
        return jdbc.queryForList("""
                SELECT a.notification_id, a.rule, a.requested_at, a.expires_at, a.reopened_because, n.type, n.customer_id,
                       herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical
                FROM approval a JOIN notification n ON n.id = a.notification_id
                WHERE a.notification_id = ? AND a.state = 'AWAITING'""", notificationId).stream().findFirst().map(row -> pending(row, masked));
    }

    private Pending pending(Map<String, Object> row, boolean masked) {
        long id = ((Number) row.get("notification_id")).longValue();
        String type = (String) row.get("type");
        List<String> channels = jdbc.queryForList("SELECT channel FROM delivery WHERE notification_id = ? AND state = 'AWAITING_APPROVAL'"
                + " ORDER BY id", String.class, id);
        ApprovalPreviews.Shown shown = previews.of(id, type, (String) row.get("canonical"), channels, masked);
        return new Pending(id, type, (String) row.get("customer_id"), (String) row.get("rule"), instant(row.get("requested_at")),
                instant(row.get("expires_at")), triggeredBy(id), shown.channels(), shown.digest(), (String) row.get("reopened_because"));
    }

    /**
     * Approved by {@code approver} with a comment: its deliveries are queued now, as dispatch would have queued them,
     * and the channels' senders woken. Refused (with the reason) without a comment, for the person who triggered it,
     * when it is no longer awaiting approval (decided by someone else meanwhile, or expired), and when {@code seenDigest}
     * (the preview's digest the approver was shown; null: not pinned) is not what the message would be now.
     */
    public Decision approve(long notificationId, Approver who, String comment, String seenDigest) {
        String approver = who.name();
        Decision decision = transaction.execute(status -> {
            Instant started = Instant.now();
            String said = DecisionComment.required(comment, "an approval");
            requireAwaiting(notificationId);
            Pending shown = find(notificationId, false).orElseThrow(() -> notAwaiting(notificationId));
            requireUnchanged(notificationId, seenDigest, shown);
            ApprovalPreviews.requireSendable("notification " + notificationId, shown.channels());
            Set<String> approverIs = names.aliases(approver, who.subject());
            Optional<String> triggered = triggeredBy(notificationId).stream().filter(name -> approverIs.contains(OidcNames.key(name))).findFirst();
            if (triggered.isPresent()) {
                throw new ApprovalRefused(HttpStatus.FORBIDDEN, approver + " may not approve notification " + notificationId + ": they triggered or edited it"
                        + (OidcNames.key(triggered.get()).equals(OidcNames.key(approver)) && triggered.get().equals(approver) ? ""
                                : " (as " + triggered.get() + ")")
                        + " (see its timeline), and four eyes means another approver decides");
            }
            decide(notificationId, "APPROVED", approver, said, channelDigests(shown));
            Optional<QuietHoursAfterApproval.Waiting> quiet = quietHours.schedule(notificationId);   // inside the customer's quiet hours
            List<String> channels = ledger.releaseHeld(notificationId, AWAITING, "APPROVED", "approved by " + approver + ": " + said);
            String message = "notification " + notificationId + " approved: " + channels.size() + " deliver" + (channels.size() == 1 ? "y" : "ies")
                    + " queued" + (channels.isEmpty() ? "" : " (" + String.join(", ", channels) + ")")
                    + quiet.map(q -> "; " + String.join(", ", q.channels()) + " scheduled for " + q.ends() + ", the end of the customer's"
                            + " quiet hours (the Scheduled page sends it now or cancels it)").orElse("");
            audit.record(started, approver, "APPROVE", "approval", notificationId, notificationId, said, message);
            return new Decision(notificationId, "APPROVED", approver, said, channels, message);
        });
        senders.wake(decision.channels());
        log.info("{} (by {})", decision.message(), approver);
        return decision;
    }

    /**
     * Right before a delivery of this notification is claimed for sending (ChannelDelivery, not for a resend, which has its
     * own approval): null when it may go out, that is when the notification was never held for approval, when this
     * channel's message ({@code sending}, rendered as the approver's preview renders it) is exactly one an approver approved,
     * or when it was approved before approvals recorded what they approved (V53). Otherwise it is not sent: the delivery
     * waits for approval again and the approval is reopened (AWAITING, with why and a fresh expiry, audited REOPEN), so an
     * approver reads the message that would go out now. Returns why it was not sent.
     */
    public String beforeSending(long notificationId, String channel, MessagePreview.Channel sending) {
        Map<String, Object> row = jdbc.queryForList("""
                SELECT state, decided_by, approved_digests IS NULL AS unpinned, approved_digests ->> ? AS approved
                FROM approval WHERE notification_id = ?""", channel, notificationId).stream().findFirst().orElse(null);
        if (row == null) {
            return null;
        }
        String state = (String) row.get("state");
        String approved = (String) row.get("approved");
        if (PreviewDigest.of(List.of(sending)).equals(approved) || ("APPROVED".equals(state) && Boolean.TRUE.equals(row.get("unpinned")))) {
            return null;
        }
        String because = approved != null
                ? "its " + channel + " message or recipient changed after it was approved (a template, the catalog or the customer's"
                        + " details were edited since)"
                : "its " + channel + " message was never shown to an approver (a channel tried after an approved one failed, or one"
                        + " the approved preview did not include)";
        return reopen(notificationId, channel, because);
    }

    /**
     * The delivery held again and the approval reopened, in one transaction that takes the approval row first (as an
     * approval, a rejection, a withdrawal and an expiry do), so a decision and a reopening are one after the other: an
     * approval never releases a channel it did not show. A notification rejected, withdrawn or expired meanwhile is not
     * reopened: the delivery ends as its approval did, not sent. Approvers get a fresh expiry (one already awaiting keeps its
     * own if that is later).
     */
    private String reopen(long notificationId, String channel, String because) {
        return transaction.execute(status -> {
            Map<String, Object> approval = jdbc.queryForMap("SELECT state, decided_by FROM approval WHERE notification_id = ? FOR UPDATE",
                    notificationId);
            String state = (String) approval.get("state");
            if (!"APPROVED".equals(state) && !AWAITING_STATE.equals(state)) {
                String ended = "not sent: " + because + ", and the notification was since " + state + " by " + approval.get("decided_by");
                ledger.endWaiting(notificationId, channel, state, ended);
                return ended;
            }
            String reason = "awaiting approval again: " + because + "; not sent until an approver approves the message as it is now";
            if (!ledger.holdAgain(notificationId, channel, AWAITING, reason)) {
                return reason;   // no longer waiting for a sender (settled, or claimed meanwhile): nothing to hold
            }
            jdbc.update("""
                    UPDATE approval SET expires_at = greatest(CASE WHEN state = 'AWAITING' THEN expires_at END, now() + make_interval(secs => ?)),
                           reopened_because = CASE WHEN state = 'AWAITING' AND reopened_because IS NOT NULL THEN reopened_because || '; ' || ?
                                                   ELSE ? END,
                           state = 'AWAITING', decided_by = NULL, decided_at = NULL, comment = NULL
                    WHERE notification_id = ?""", settings.expireAfter().toSeconds(), because, because, notificationId);
            audit.record(Instant.now(), HERALD, "REOPEN", "approval", notificationId, notificationId, null, reason);
            log.warn("Notification {}: its {} delivery awaits approval again: {}", notificationId, channel, because);
            return reason;
        });
    }

    /** What each channel of the preview an approver approves would send, as a JSON object: channel to digest. */
    private String channelDigests(Pending shown) {
        Map<String, String> digests = new java.util.TreeMap<>();
        shown.channels().forEach(channel -> digests.put(channel.channel(), PreviewDigest.of(List.of(channel))));
        try {
            return json.writeValueAsString(digests);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the approved digests could not be written as JSON", e);
        }
    }

    /** Rejected by {@code approver} with a comment: its deliveries end REJECTED with "rejected by X: comment", never sent. */
    public Decision reject(long notificationId, String approver, String comment) {
        return transaction.execute(status -> {
            Instant started = Instant.now();
            String said = DecisionComment.required(comment, "a rejection");
            requireAwaiting(notificationId);
            decide(notificationId, "REJECTED", approver, said, null);
            int ended = ledger.endHeld(List.of(notificationId), AWAITING, "REJECTED", "rejected by " + approver + ": " + said + "; not sent");
            String message = "notification " + notificationId + " rejected: " + ended + " deliver" + (ended == 1 ? "y" : "ies")
                    + " REJECTED, nothing sent";
            audit.record(started, approver, "REJECT", "approval", notificationId, notificationId, said, message);
            log.info("Notification {} rejected by {}", notificationId, approver);
            return new Decision(notificationId, "REJECTED", approver, said, List.of(), message);
        });
    }

    /**
     * Withdrawn by Herald while it awaits approval (an incident notice whose incident was resolved first, an erased
     * customer's): its deliveries end REJECTED with the reason, never sent, audited as WITHDRAW. False when it was no
     * longer awaiting approval.
     */
    public boolean withdraw(long notificationId, String reason) {
        return withdraw(notificationId, reason, "REJECTED");
    }

    /**
     * A newer event made these notices pointless while they await approval (SupersedingEvents, catalog cancelled-by): this
     * customer's notifications of {@code type} naming {@code value} in {@code field} (refs, then data) are withdrawn, their
     * deliveries CANCELLED with the reason as any superseded notice's, never sent, audited as WITHDRAW; only those that
     * occurred before {@code occurredBefore} when given (a newer one of their own type). Returns them.
     */
    public List<Long> withdrawSuperseded(String customerId, String type, String field, String value, String reason, Instant occurredBefore) {
        return jdbc.queryForList("""
                SELECT a.notification_id FROM approval a JOIN notification n ON n.id = a.notification_id
                WHERE a.state = 'AWAITING' AND n.customer_id = ? AND n.type = ?
                  AND COALESCE(n.canonical -> 'refs' ->> ?, herald_canonical(n.id, n.received_at, n.canonical) -> 'data' ->> ?) = ?
                  AND COALESCE(n.occurred_at, '-infinity') < ?::timestamptz
                ORDER BY a.notification_id""", Long.class, customerId, type, field, field, value,
                occurredBefore == null ? "infinity" : occurredBefore.toString())
                .stream().filter(id -> withdraw(id, reason, "CANCELLED")).toList();
    }

    private boolean withdraw(long notificationId, String reason, String ending) {
        return Boolean.TRUE.equals(transaction.execute(status -> {
            if (jdbc.update("UPDATE approval SET state = 'REJECTED', decided_by = ?, decided_at = now(), comment = ?"
                    + " WHERE notification_id = ? AND state = 'AWAITING'", HERALD, reason, notificationId) == 0) {
                return false;
            }
            ledger.endHeld(List.of(notificationId), AWAITING, ending, reason);
            audit.record(Instant.now(), HERALD, "WITHDRAW", "approval", notificationId, notificationId, null, reason);
            return true;
        }));
    }

    /**
     * The expiry sweep (routes/approvals.camel.yaml): notifications awaiting approval past their expiry, at most
     * herald.approvals.batch-size, expire in one UPDATE ... RETURNING (rows another instance is expiring are skipped);
     * their deliveries end EXPIRED with the reason (FailureAlerts posts them to the ops webhook like failures) and
     * each expiry is audited. Returns how many expired.
     */
    public int expireDue() {
        Duration after = settings.expireAfter();
        // Not "issue it again at the source": the same event again has the same idempotency key, a duplicate that sends nothing.
        String reason = "not approved or rejected within " + human(after) + " (herald.approvals.expire-after): expired, not sent, so the"
                + " customer was not told. Herald will not send it later: the same event sent again is this notification, a duplicate;"
                + " if the customer must still know, tell them another way";
        Integer expired = transaction.execute(status -> {
            List<Long> ids = jdbc.queryForList("""
                    UPDATE approval SET state = 'EXPIRED', decided_by = ?, decided_at = now(), comment = ?
                    WHERE notification_id IN (SELECT notification_id FROM approval WHERE state = 'AWAITING' AND expires_at <= now()
                                              ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED)
                    RETURNING notification_id""", Long.class, HERALD, reason, settings.batchSize());
            if (ids.isEmpty()) {
                return 0;
            }
            ledger.endHeld(ids, AWAITING, "EXPIRED", reason);
            Instant now = Instant.now();
            for (Long id : ids) {
                audit.record(now, HERALD, "EXPIRE", "approval", id, id, null, reason);
            }
            return ids.size();
        });
        if (expired != null && expired > 0) {
            log.warn("{} notification(s) awaiting approval expired unapproved after {}; not sent, alerted to the ops webhook", expired, after);
        }
        return expired == null ? 0 : expired;
    }

    /**
     * The conditional UPDATE that decides once: refused if someone else decided (or it expired) meanwhile. An approval
     * records what was approved, per channel ({@code digests}, merged with what an earlier approval of it recorded).
     */
    private void decide(long notificationId, String state, String approver, String comment, String digests) {
        int decided = jdbc.update("""
                UPDATE approval SET state = ?, decided_by = ?, decided_at = now(), comment = ?, reopened_because = NULL,
                       approved_digests = CASE WHEN CAST(? AS jsonb) IS NULL THEN approved_digests
                                               ELSE coalesce(approved_digests, '{}'::jsonb) || CAST(? AS jsonb) END
                WHERE notification_id = ? AND state = 'AWAITING' AND expires_at > now()""", state, approver, comment, digests, digests,
                notificationId);
        if (decided == 0) {
            throw notAwaiting(notificationId);
        }
    }

    /** The message the approver saw is the one that would go out now (a template, the catalog or the customer may have changed). */
    private static void requireUnchanged(long notificationId, String seenDigest, Pending now) {
        PreviewDigest.requireShape(seenDigest);
        if (seenDigest == null || seenDigest.isBlank()) {
            return;
        }
        if (!seenDigest.strip().equalsIgnoreCase(now.previewDigest())) {
            throw new ApprovalRefused(HttpStatus.CONFLICT, "notification " + notificationId + " would not go out as you were shown it:"
                    + " its message or recipient changed since (a template, the catalog or the customer's details were edited)."
                    + " Review it again and approve what is shown now");
        }
    }

    /** Taken FOR UPDATE: a reopening of the notification (beforeSending) waits for the decision, or the decision for it. */
    private void requireAwaiting(long notificationId) {
        Map<String, Object> row = jdbc.queryForList("SELECT state, expires_at FROM approval WHERE notification_id = ? FOR UPDATE", notificationId)
                .stream().findFirst().orElseThrow(() -> new ApprovalRefused(HttpStatus.NOT_FOUND, "notification " + notificationId
                        + " is not awaiting approval (no such notification, or its type needs none)"));
        if (!"AWAITING".equals(row.get("state")) || !instant(row.get("expires_at")).isAfter(Instant.now())) {
            throw notAwaiting(notificationId);
        }
    }

    private ApprovalRefused notAwaiting(long notificationId) {
        Map<String, Object> row = jdbc.queryForMap("SELECT state, decided_by, decided_at, expires_at FROM approval WHERE notification_id = ?",
                notificationId);
        String state = (String) row.get("state");
        if ("AWAITING".equals(state)) {
            return new ApprovalRefused(HttpStatus.CONFLICT, "notification " + notificationId + " passed its approval deadline "
                    + instant(row.get("expires_at")) + " and is expiring: it can no longer be approved");
        }
        return new ApprovalRefused(HttpStatus.CONFLICT, "notification " + notificationId + " is already " + state
                + (HERALD.equals(row.get("decided_by")) ? "" : " by " + row.get("decided_by")) + " at " + instant(row.get("decided_at"))
                + ": nothing more to decide");
    }

    /**
     * Who triggered or edited it (re-drove its event, linked or assigned its quarantined event to a customer, which re-drives
     * it, resent it, retried a delivery of it, which may bring it back for approval): they may not approve it.
     */
    List<String> triggeredBy(long notificationId) {
        return new ArrayList<>(new LinkedHashSet<>(jdbc.queryForList("""
                SELECT actor FROM operator_action WHERE notification_id = ? AND action IN ('REDRIVE', 'LINK', 'ASSIGN', 'RESEND', 'EDIT', 'RETRY') ORDER BY id""",
                String.class, notificationId)));
    }

    private static String human(Duration duration) {
        long hours = duration.toHours();
        return hours > 0 && duration.equals(Duration.ofHours(hours)) ? hours + (hours == 1 ? " hour" : " hours")
                : duration.toMinutes() + " minutes";
    }

    private static Instant instant(Object value) {
        return value == null ? null : ((Timestamp) value).toInstant();
    }
}
