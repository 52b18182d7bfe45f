package io.herald.approval;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import io.herald.config.ApprovalSettings;
import io.herald.console.AuditTrail;
import io.herald.dispatch.MessagePreview;
import io.herald.ledger.DeliveryLedger;
import io.herald.security.OidcNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Approval of resends (issue 16): an operator's resend of a delivery whose notification's type needs approval is held like
 * the original notification was (DeliveryResend asks {@link #hold}). The owner of the resend_approval table's state machine:
 * AWAITING, then APPROVED, REJECTED or EXPIRED, each decided by one conditional UPDATE, so a double click or two approvers at
 * once decide once. Four eyes: the operator who asked for the resend may not approve it. Approved, the caller sends it
 * (DeliveryResend.sendApproved); rejected or expired, the resend ends with that outcome and the reason, never sent. Every
 * decision is audited on the delivery (RESEND_APPROVE, RESEND_REJECT, RESEND_EXPIRE; RESEND_WITHDRAW when the customer is
 * erased) and shows in the notification's timeline; the resend itself stays PENDING while it waits, which also keeps a
 * second resend of the delivery out.
 */
@Component
public class ResendApprovals {

    /**
     * A resend awaiting approval, as the API lists it, with the message the resend would send now (recipient masked for
     * viewers) and its digest (not for viewers), which an approval pins like a notification's.
     */
    public record Pending(long resendId, String resend, long deliveryId, long notificationId, String type, String customerId, String channel,
                          String rule, String requestedBy, String reason, Instant requestedAt, Instant expiresAt,
                          MessagePreview.Channel message, String previewDigest) {
        /** The message as a list of one, as the console shows a notification's channels. */
        @com.fasterxml.jackson.annotation.JsonIgnore
        public List<MessagePreview.Channel> messages() {
            return List.of(message);
        }
    }

    /** What a decision did (the send of an approved resend is reported by DeliveryResend). */
    public record Decision(long resendId, long deliveryId, long notificationId, String state, String decidedBy, String comment) {
    }

    private static final Logger log = LoggerFactory.getLogger(ResendApprovals.class);

    private final JdbcTemplate jdbc;
    private final OidcNames names;
    private final TransactionTemplate transaction;
    private final DeliveryLedger ledger;
    private final AuditTrail audit;
    private final ApprovalSettings settings;
    private final ApprovalPreviews previews;
    /** Resends named as people count them ("2nd resend of delivery 9") in what the approvals say; the id stays in addresses. */
    private final io.herald.console.ResendOrdinals ordinals;

    ResendApprovals(JdbcTemplate jdbc, TransactionTemplate transaction, DeliveryLedger ledger, AuditTrail audit,
                    ApprovalSettings settings, OidcNames names, ApprovalPreviews previews, io.herald.console.ResendOrdinals ordinals) {
        this.jdbc = jdbc;
        this.ordinals = ordinals;
        this.previews = previews;
        this.names = names;
        this.transaction = transaction;
        this.ledger = ledger;
        this.audit = audit;
        this.settings = settings;
    }

    /** Holds a just requested resend for an approver; it expires after herald.approvals.expire-after. Joins the caller's transaction. */
    public Instant hold(long resendId, long deliveryId, long notificationId, String rule, String requestedBy) {
        return jdbc.queryForObject("""
                INSERT INTO resend_approval (resend_id, delivery_id, notification_id, rule, requested_by, expires_at)
                VALUES (?, ?, ?, ?, ?, now() + make_interval(secs => ?)) RETURNING expires_at""", Timestamp.class,
                resendId, deliveryId, notificationId, rule, requestedBy, settings.expireAfter().toSeconds()).toInstant();
    }

    /** The resend held for approval on this delivery now, if any: its id and who asked for it. */
    public java.util.Optional<Map<String, Object>> awaitingOn(long deliveryId) {
        return jdbc.queryForList("SELECT resend_id, requested_by, requested_at FROM resend_approval WHERE delivery_id = ? AND state = 'AWAITING'",
                deliveryId).stream().findFirst();
    }

    /**
     * The resends awaiting approval, the first to expire first; {@code masked}: emails, phone numbers and the customer's names
     * in the comment masked (viewers).
     */
    public List<Pending> awaiting(boolean masked, int limit) {
        return awaiting(masked, "a.state = 'AWAITING'", limit);
    }

    /** One resend awaiting approval, as an approver is shown it now. */
    private java.util.Optional<Pending> find(long resendId) {
        return awaiting(false, "a.state = 'AWAITING' AND a.resend_id = ?", resendId, 1).stream().findFirst();
    }

    /** {@code which}: the condition, its parameters first in {@code values}, then the limit. */
    private List<Pending> awaiting(boolean masked, String which, Object... values) {
        return jdbc.query("""
                SELECT a.resend_id, (SELECT count(*) FROM delivery_resend x WHERE x.delivery_id = a.delivery_id AND x.id <= a.resend_id)
                       AS place, a.delivery_id, a.notification_id, n.type, n.customer_id, d.channel, a.rule, a.requested_by,
                       r.comment, a.requested_at, a.expires_at, herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical
                FROM resend_approval a JOIN delivery_resend r ON r.id = a.resend_id JOIN delivery d ON d.id = a.delivery_id
                     JOIN notification n ON n.id = a.notification_id
                WHERE %s ORDER BY a.expires_at, a.resend_id LIMIT ?""".formatted(which), (row, n) -> {
            ApprovalPreviews.Shown shown = previews.of(row.getLong("notification_id"), row.getString("type"), row.getString("canonical"),
                    List.of(row.getString("channel")), masked);
            return new Pending(row.getLong("resend_id"),
                    io.herald.console.ResendOrdinals.ordinal(row.getInt("place")) + " resend of delivery " + row.getLong("delivery_id"),
                    row.getLong("delivery_id"), row.getLong("notification_id"), row.getString("type"),
                    row.getString("customer_id"), row.getString("channel"), row.getString("rule"), row.getString("requested_by"),
                    previews.comment(row.getString("comment"), row.getString("customer_id"), masked),
                    row.getTimestamp("requested_at").toInstant(), row.getTimestamp("expires_at").toInstant(), shown.channels().get(0),
                    shown.digest());
        }, values);
    }

    /**
     * Approved by {@code approver} with a comment; the caller then sends it. Refused without a comment, to the operator who
     * asked for the resend (four eyes), when it is no longer awaiting approval (decided meanwhile, or expired), and when
     * {@code seenDigest} (the previewDigest the approver was shown; null: not pinned) is not what the resend would send now.
     */
    public Decision approve(long resendId, Approver who, String comment, String seenDigest) {
        String approver = who.name();
        return transaction.execute(status -> {
            Instant started = Instant.now();
            String said = DecisionComment.required(comment, "an approval");
            PreviewDigest.requireShape(seenDigest);
            Map<String, Object> held = awaitingOrRefuse(resendId);
            java.util.Optional<Pending> shown = find(resendId);
            if (seenDigest != null && !seenDigest.isBlank()
                    && !seenDigest.strip().equalsIgnoreCase(shown.map(Pending::previewDigest).orElse(null))) {
                throw new ApprovalRefused(HttpStatus.CONFLICT, ordinals.ofDelivery(resendId) + " would not go out as you were shown it: its message"
                        + " or recipient changed since (a template, the catalog or the customer's details were edited)."
                        + " Review it again and approve what is shown now");
            }
            shown.ifPresent(pending -> ApprovalPreviews.requireSendable(ordinals.ofDelivery(resendId), pending.messages()));
            String requestedBy = (String) held.get("requested_by");
            if (names.aliases(approver, who.subject()).contains(OidcNames.key(requestedBy))) {
                throw new ApprovalRefused(HttpStatus.FORBIDDEN, approver + " may not approve the " + ordinals.ofDelivery(resendId) + ": they asked for it"
                        + (requestedBy.equals(approver) ? "" : " (as " + requestedBy + ")") + ","
                        + " and four eyes means another approver decides");
            }
            decide(resendId, "APPROVED", approver, said);
            Decision decision = decision(held, resendId, "APPROVED", approver, said);
            audit.record(started, approver, "RESEND_APPROVE", "delivery", decision.deliveryId(), decision.notificationId(), said,
                    ordinals.ofDelivery(resendId) + " (asked for by " + held.get("requested_by") + ") approved: sent now");
            return decision;
        });
    }

    /** Rejected by {@code approver} with a comment: the resend ends REJECTED with the approver's words, never sent. */
    public Decision reject(long resendId, String approver, String comment) {
        Decision decision = transaction.execute(status -> {
            Instant started = Instant.now();
            String said = DecisionComment.required(comment, "a rejection");
            Map<String, Object> held = awaitingOrRefuse(resendId);
            decide(resendId, "REJECTED", approver, said);
            ledger.resendNotSent(resendId, "REJECTED", "resend rejected by " + approver + ": " + said + "; not sent");
            Decision rejected = decision(held, resendId, "REJECTED", approver, said);
            audit.record(started, approver, "RESEND_REJECT", "delivery", rejected.deliveryId(), rejected.notificationId(), said,
                    ordinals.ofDelivery(resendId) + " (asked for by " + held.get("requested_by") + ") rejected: not sent");
            return rejected;
        });
        log.info("Resend {} rejected by {}", resendId, approver);
        return decision;
    }

    /**
     * Herald withdraws the resends awaiting approval of these notifications (their customer was erased): each ends REJECTED
     * by Herald with the reason, the held resend ends REJECTED with it, never sent, audited as RESEND_WITHDRAW. Approvers are
     * no longer asked about them, and no expiry alert follows. Joins the caller's transaction. Returns how many.
     */
    public int withdrawFor(Collection<Long> notificationIds, String reason) {
        if (notificationIds.isEmpty()) {
            return 0;
        }
        List<Map<String, Object>> rows = jdbc.queryForList("""
                UPDATE resend_approval SET state = 'REJECTED', decided_by = 'Herald', decided_at = now(), comment = ?
                WHERE notification_id = ANY(CAST(? AS BIGINT[])) AND state = 'AWAITING'
                RETURNING resend_id, delivery_id, notification_id, requested_by""", reason,
                notificationIds.stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}")));
        Instant now = Instant.now();
        for (Map<String, Object> row : rows) {
            long resendId = ((Number) row.get("resend_id")).longValue();
            ledger.resendNotSent(resendId, "REJECTED", reason);
            audit.record(now, "Herald", "RESEND_WITHDRAW", "delivery", ((Number) row.get("delivery_id")).longValue(),
                    ((Number) row.get("notification_id")).longValue(), null, ordinals.ofDelivery(resendId) + " (asked for by "
                            + row.get("requested_by") + ") " + reason);
        }
        return rows.size();
    }

    /**
     * The expiry sweep (routes/approvals.camel.yaml, with the notifications'): resends awaiting approval past their expiry,
     * at most herald.approvals.batch-size, expire in one UPDATE ... RETURNING; each resend ends EXPIRED with the reason, audited.
     */
    public int expireDue() {
        String reason = "resend not approved or rejected within herald.approvals.expire-after (" + settings.expireAfter()
                + "): expired, not sent. If the customer still needs a copy, resend it again";
        Integer expired = transaction.execute(status -> {
            List<Map<String, Object>> rows = jdbc.queryForList("""
                    UPDATE resend_approval SET state = 'EXPIRED', decided_by = 'Herald', decided_at = now(), comment = ?
                    WHERE resend_id IN (SELECT resend_id FROM resend_approval WHERE state = 'AWAITING' AND expires_at <= now()
                                        ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED)
                    RETURNING resend_id, delivery_id, notification_id, requested_by""", reason, settings.batchSize());
            Instant now = Instant.now();
            for (Map<String, Object> row : rows) {
                long resendId = ((Number) row.get("resend_id")).longValue();
                ledger.resendNotSent(resendId, "EXPIRED", reason);
                audit.record(now, "Herald", "RESEND_EXPIRE", "delivery", ((Number) row.get("delivery_id")).longValue(),
                        ((Number) row.get("notification_id")).longValue(), null, ordinals.ofDelivery(resendId) + " (asked for by "
                                + row.get("requested_by") + ") " + reason);
            }
            return rows.size();
        });
        if (expired != null && expired > 0) {
            log.warn("{} resend(s) awaiting approval expired unapproved after {}; not sent", expired, settings.expireAfter());
        }
        return expired == null ? 0 : expired;
    }

    private Map<String, Object> awaitingOrRefuse(long resendId) {
        Map<String, Object> row = jdbc.queryForList("""
                SELECT delivery_id, notification_id, requested_by, state, decided_by, decided_at, expires_at, expires_at > now() AS open
                FROM resend_approval WHERE resend_id = ? FOR UPDATE""", resendId).stream().findFirst()
                .orElseThrow(() -> new ApprovalRefused(HttpStatus.NOT_FOUND, "resend " + resendId
                        + " is not awaiting approval (no such resend, or its notification's type needs none)"));
        if (!"AWAITING".equals(row.get("state"))) {
            throw new ApprovalRefused(HttpStatus.CONFLICT, "the " + ordinals.ofDelivery(resendId) + " is already " + row.get("state") + " by "
                    + row.get("decided_by") + " at " + ((Timestamp) row.get("decided_at")).toInstant() + ": nothing more to decide");
        }
        if (!Boolean.TRUE.equals(row.get("open"))) {
            throw new ApprovalRefused(HttpStatus.CONFLICT, "the " + ordinals.ofDelivery(resendId) + " passed its approval deadline "
                    + ((Timestamp) row.get("expires_at")).toInstant() + " and is expiring: it can no longer be approved");
        }
        return row;
    }

    private void decide(long resendId, String state, String approver, String comment) {
        jdbc.update("UPDATE resend_approval SET state = ?, decided_by = ?, decided_at = now(), comment = ? WHERE resend_id = ? AND state = 'AWAITING'",
                state, approver, comment, resendId);
    }

    private static Decision decision(Map<String, Object> held, long resendId, String state, String approver, String comment) {
        return new Decision(resendId, ((Number) held.get("delivery_id")).longValue(), ((Number) held.get("notification_id")).longValue(),
                state, approver, comment);
    }
}
