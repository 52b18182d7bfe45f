package io.herald.ledger;

import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import io.herald.logging.Masking;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * One ledger row per notification x channel, with its state, timestamps, the rendered message
 * (already masked by the caller) and the reason for any outcome other than SENT. The unique
 * (notification, channel) pair is the second dedup guard: a redelivered notification finds its
 * delivery already done and does not send again.
 *
 * <p>Each attempt holds a claim: a token stored when the delivery (or a resend, on its own
 * delivery_resend row) is claimed for sending and required by every outcome it writes (sent, parked,
 * failed, uncertain), then cleared. An attempt given up meanwhile (timed out and retried elsewhere,
 * taken for a crash by StaleSendings) finds its token gone: its late answer is kept as a LATE
 * attempt and never overwrites the newer state.
 */
@Component
public class DeliveryLedger {

    /** States after which the channel is never sent again, except by an audited resend. */
    static final Set<String> SETTLED = Set.of("SENDING", "SENT", "DELIVERED", "BOUNCED", "SKIPPED", "FAILED", "DISMISSED", "UNCERTAIN",
            "UNDELIVERED", "COMPLAINED",   // receipts (issue 13)
            "AWAITING_APPROVAL", "REJECTED", "EXPIRED",   // approval before send (issue 16): sent only once approved
            "SCHEDULED", "HELD", "CANCELLED",   // time-aware sends (issue 14): sent only once released
            "DIGESTED");   // customer digests (issue 14): carried by the message of another notification (io.herald.digest)
    /**
     * States a delivery waits in without being due, released to PENDING or ended by the one owner of each: AWAITING_APPROVAL
     * (io.herald.approval.Approvals), SCHEDULED (io.herald.schedule.ScheduledSends: quiet hours, reminders, digests), HELD
     * (a late message waiting for an operator to send or dismiss it).
     */
    public static final Set<String> HELD_STATES = Set.of("AWAITING_APPROVAL", "SCHEDULED", "HELD");
    /** The final states a held delivery may end in, never sent. */
    public static final Set<String> HELD_ENDINGS = Set.of("REJECTED", "EXPIRED", "CANCELLED", "DISMISSED");
    private static final String SETTLED_LIST = SETTLED.stream().sorted().map(state -> "'" + state + "'").collect(Collectors.joining(", "));
    /** States a successful resend moves the delivery out of (to SENT); a SENT or DELIVERED record is never changed by a resend. */
    private static final String NOT_RECEIVED = "'FAILED', 'UNCERTAIN', 'DISMISSED', 'SKIPPED', 'BOUNCED', 'UNDELIVERED'";
    /**
     * Creates the row SENDING, or moves a row that is not settled to SENDING, with a fresh claim token:
     * only the attempt holding that token can write the outcome.
     */
    private static final String CLAIM_FOR_SENDING = """
            WITH c AS (SELECT * FROM unnest(?::bigint[], ?::varchar[], ?::varchar[], ?::text[], ?::text[], ?::uuid[])
                       WITH ORDINALITY AS c(notification_id, channel, recipient_masked, subject, rendered_body, claim_token, n)),
                 claimed AS (
                   INSERT INTO delivery (notification_id, channel, state, recipient_masked, attempts, claim_token)
                   SELECT c.notification_id, c.channel, 'SENDING', c.recipient_masked, 1, c.claim_token FROM c ORDER BY c.n
                   ON CONFLICT (notification_id, channel) DO UPDATE SET state = 'SENDING', recipient_masked = EXCLUDED.recipient_masked,
                          attempts = delivery.attempts + 1, claim_token = EXCLUDED.claim_token, updated_at = now()
                   WHERE delivery.state NOT IN (%s) OR (delivery.state = 'SENDING' AND delivery.claim_token = EXCLUDED.claim_token)
                   RETURNING id, notification_id, claim_token),
                 content AS (%s
                   SELECT claimed.id, n.received_at, c.subject, c.rendered_body
                   FROM claimed JOIN c ON c.claim_token = claimed.claim_token JOIN notification n ON n.id = claimed.notification_id
                   %s)
            SELECT id, claim_token FROM claimed""".formatted(SETTLED_LIST, DeliveryContent.INSERT, DeliveryContent.REPLACE);
    /**
     * A SENT delivery sent after its notification's window deadline is flagged as missing it, at the time it was sent, in
     * the statement that records it SENT (unless it was flagged already while waiting): the flag cannot be lost between
     * two statements. {@code %1$s}: the time of the send by Herald's clock, null when it is known in memory to be on time
     * (almost every send): the deadline is then not looked at. Herald's clock, not the database's, judges it, as it judged
     * the deadline and the quiet hours that moved it.
     */
    private static final String FLAG_IF_LATE = """
            window_missed_at = CASE WHEN %1$s IS NOT NULL AND d.window_missed_at IS NULL
                                         AND %1$s > (SELECT n.window_deadline FROM notification n WHERE n.id = d.notification_id)
                                    THEN now() ELSE d.window_missed_at END""";
    /** Whether the row just written SENT was flagged by {@link #FLAG_IF_LATE} in that statement (flagged earlier: not now()). */
    private static final String FLAGGED_NOW = "d.window_missed_at IS NOT DISTINCT FROM d.sent_at AS flagged_now";
    /**
     * SENT with the provider's id, and the attempt, for every claim still holding its token; returns the deliveries
     * written and whether each was flagged as sent after its window.
     */
    private static final String SENT = """
            WITH v AS (SELECT * FROM unnest(?::bigint[], ?::uuid[], ?::text[], ?::int[], ?::timestamptz[], ?::text[])
                       AS v(id, token, provider_message_id, provider_status, late_check_at, note)),
                 sent AS (UPDATE delivery d SET state = 'SENT', provider_message_id = v.provider_message_id, reason = v.note,
                                 next_attempt_at = NULL, claim_token = NULL, sent_at = now(), updated_at = now(), %s
                          FROM v WHERE d.id = v.id AND d.claim_token = v.token
                          RETURNING d.id, v.provider_status, v.provider_message_id, v.note, %s),
                 attempt AS (INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason)
                             SELECT id, 'SENT', provider_status, COALESCE(note, provider_message_id) FROM sent)
            SELECT id, flagged_now FROM sent""".formatted(FLAG_IF_LATE.formatted("v.late_check_at"), FLAGGED_NOW);

    /** One delivery to claim for sending, with what it is about to send. */
    private record ToClaim(long notificationId, String channel, String recipientMasked, String subject, String renderedBody, UUID token) {
    }

    /** One claim's SENT outcome; {@code lateCheckAt}: when it was sent by Herald's clock, if it may be after its window. */
    private record Sent(Claim claim, String providerMessageId, Integer providerStatus, Instant lateCheckAt, String note, DeviceSent device) {
    }

    /** What recording a SENT outcome did. */
    public enum SentRecord {
        /** A late answer: the claim no longer held the row (kept as a LATE attempt; the newer state stays). */
        NOT_WRITTEN,
        SENT,
        /** SENT, and flagged in the same statement as sent after its window (the first time it is flagged). */
        SENT_AFTER_WINDOW;

        public boolean written() {
            return this != NOT_WRITTEN;
        }
    }

    public record Delivery(long id, String state) {
        public boolean settled() {
            return SETTLED.contains(state);
        }
    }

    /**
     * The right to write one attempt's outcome: the delivery, the resend if this attempt is one
     * (a resend's outcome is kept on its delivery_resend row, never on the delivery's SENT record),
     * and the token the claim stored. An outcome written with a token that is no longer the row's
     * (the attempt was given up meanwhile) changes nothing and is kept as a LATE attempt.
     */
    public record Claim(long deliveryId, Long resendId, UUID token, long claimedAtNanos) {

        /** A claim made now (System.nanoTime: how long its sender has held it, see ClaimKept). */
        public Claim(long deliveryId, Long resendId, UUID token) {
            this(deliveryId, resendId, token, System.nanoTime());
        }

        public boolean resend() {
            return resendId != null;
        }

        String label() {
            return resend() ? "resend " + resendId + ": " : "";
        }
    }

    private static final Logger log = LoggerFactory.getLogger(DeliveryLedger.class);

    private final JdbcTemplate jdbc;
    /** The claims before and the SENT outcomes after provider calls, committed many deliveries at a time when busy. */
    private final GroupCommit grouped;
    private final GroupCommit.Kind<ToClaim, Optional<Claim>> claims = this::claimAll;
    private final GroupCommit.Kind<Sent, SentRecord> sents = this::sentAll;

    /** What else is done in a group of claims' transaction (the rate-limit permits of the claimed deliveries); none in some tests. */
    private final List<ClaimedForSending> alsoOnClaim;

    /** What else is written in a group of SENT records' transaction (the devices that took pushes); none in some tests. */
    private final List<DevicesSent> alsoOnSent;

    public DeliveryLedger(JdbcTemplate jdbc, TransactionTemplate tx, List<ClaimedForSending> alsoOnClaim) {
        this(jdbc, tx, alsoOnClaim, List.of());
    }

    @org.springframework.beans.factory.annotation.Autowired
    public DeliveryLedger(JdbcTemplate jdbc, TransactionTemplate tx, List<ClaimedForSending> alsoOnClaim, List<DevicesSent> alsoOnSent) {
        this.jdbc = jdbc;
        this.grouped = new GroupCommit(tx, 256);
        this.alsoOnClaim = List.copyOf(alsoOnClaim);
        this.alsoOnSent = List.copyOf(alsoOnSent);
    }

    /**
     * The delivery row, created PENDING if new, with its current state (for a delivery that is not to
     * be sent, or whose claim found it settled): one round trip (the no-op update on a conflict only
     * makes RETURNING give back the existing row, state unchanged).
     */
    public Delivery open(long notificationId, String channel) {
        return jdbc.queryForObject("""
                INSERT INTO delivery (notification_id, channel, state) VALUES (?, ?, 'PENDING')
                ON CONFLICT (notification_id, channel) DO UPDATE SET channel = EXCLUDED.channel RETURNING id, state""",
                (row, n) -> new Delivery(row.getLong("id"), row.getString("state")), notificationId, channel);
    }

    /**
     * Claims the delivery for a send, with what is about to be sent, in one round trip: the row is
     * created SENDING, or a row that is not settled (PENDING, RETRYING, PARKED) moves to SENDING. A
     * settled row is left exactly as it is and nothing is returned.
     */
    public Optional<Claim> claimForSending(long notificationId, String channel, String recipientMasked, String subject,
                                           String renderedBody) {
        return claimForSending(notificationId, channel, recipientMasked, subject, renderedBody, newClaimToken());
    }

    /**
     * The same with the attempt's own {@code token}, which takes the row again while it is SENDING under it: a claim whose
     * COMMIT reached PostgreSQL but whose acknowledgement was lost with the connection is retried by its attempt (Camel's
     * redelivery of the step, with the same token) once the database answers, finds the row SENDING under its own token, and
     * nothing was sent for it yet. Any other token finds it taken, as before.
     */
    public Optional<Claim> claimForSending(long notificationId, String channel, String recipientMasked, String subject,
                                           String renderedBody, UUID token) {
        return grouped.write(claims, new ToClaim(notificationId, channel, recipientMasked, subject, renderedBody, token));
    }

    /**
     * Claims a group's deliveries in one statement; a claim whose row is settled comes back empty. Then, in the same
     * transaction, what else the claimed deliveries need (ClaimedForSending: their rate-limit permits).
     */
    private List<Optional<Claim>> claimAll(List<ToClaim> group) {
        Map<UUID, Long> claimed = new java.util.HashMap<>();
        jdbc.query(con -> {
            PreparedStatement statement = con.prepareStatement(CLAIM_FOR_SENDING);
            statement.setArray(1, con.createArrayOf("bigint", group.stream().map(ToClaim::notificationId).toArray()));
            statement.setArray(2, con.createArrayOf("varchar", group.stream().map(ToClaim::channel).toArray()));
            statement.setArray(3, con.createArrayOf("varchar", group.stream().map(ToClaim::recipientMasked).toArray()));
            statement.setArray(4, con.createArrayOf("text", group.stream().map(ToClaim::subject).toArray()));
            statement.setArray(5, con.createArrayOf("text", group.stream().map(ToClaim::renderedBody).toArray()));
            statement.setArray(6, con.createArrayOf("uuid", group.stream().map(ToClaim::token).toArray()));
            return statement;
        }, row -> {
            claimed.put(row.getObject("claim_token", UUID.class), row.getLong("id"));
        });
        if (!claimed.isEmpty() && !alsoOnClaim.isEmpty()) {
            Map<String, Integer> perChannel = new java.util.TreeMap<>();
            group.stream().filter(c -> claimed.containsKey(c.token())).forEach(c -> perChannel.merge(c.channel(), 1, Integer::sum));
            alsoOnClaim.forEach(also -> also.claimed(perChannel));
        }
        return group.stream().map(c -> Optional.ofNullable(claimed.get(c.token())).map(id -> new Claim(id, null, c.token()))).toList();
    }

    /** Writes a group's SENT outcomes in one statement; NOT_WRITTEN for a claim whose token the row no longer holds. */
    private List<SentRecord> sentAll(List<Sent> group) {
        Map<Long, SentRecord> written = new java.util.HashMap<>();
        jdbc.query(con -> {
            PreparedStatement statement = con.prepareStatement(SENT);
            statement.setArray(1, con.createArrayOf("bigint", group.stream().map(s -> s.claim().deliveryId()).toArray()));
            statement.setArray(2, con.createArrayOf("uuid", group.stream().map(s -> s.claim().token()).toArray()));
            statement.setArray(3, con.createArrayOf("text", group.stream().map(Sent::providerMessageId).toArray()));
            statement.setArray(4, con.createArrayOf("int4", group.stream().map(Sent::providerStatus).toArray()));
            statement.setArray(5, con.createArrayOf("timestamptz", group.stream()
                    .map(s -> s.lateCheckAt() == null ? null : s.lateCheckAt().toString()).toArray()));
            statement.setArray(6, con.createArrayOf("text", group.stream().map(Sent::note).toArray()));
            return statement;
        }, row -> {
            written.put(row.getLong(1), row.getBoolean(2) ? SentRecord.SENT_AFTER_WINDOW : SentRecord.SENT);
        });
        List<DeviceSent> devices = group.stream().map(Sent::device).filter(java.util.Objects::nonNull).toList();
        if (!devices.isEmpty()) {
            alsoOnSent.forEach(also -> also.write(devices));
        }
        return group.stream().map(s -> written.getOrDefault(s.claim().deliveryId(), SentRecord.NOT_WRITTEN)).toList();
    }

    /**
     * Gives back a claim whose acknowledgement may have been lost: the delivery (or the resend {@code resendId}) SENDING
     * under {@code token} waits again (PENDING; its lease keeps other senders off), for its attempt to decide afresh.
     * Nothing happens when the claim never committed, or the row is no longer its own.
     */
    public void giveBack(long notificationId, String channel, Long resendId, UUID token) {
        if (resendId != null) {
            jdbc.update("UPDATE delivery_resend SET outcome = 'PENDING', claim_token = NULL, updated_at = now()"
                    + " WHERE id = ? AND outcome = 'SENDING' AND claim_token = ?", resendId, token);
        } else {
            jdbc.update("UPDATE delivery SET state = 'PENDING', claim_token = NULL, updated_at = now()"
                    + " WHERE notification_id = ? AND channel = ? AND state = 'SENDING' AND claim_token = ?", notificationId, channel, token);
        }
    }

    /**
     * Gives back a delivery a sender claimed (its lease taken, CLAIM_DUE) but could not start, because its channel route was
     * not running: it is due again now, for the next claim once the route is started, instead of at the end of its lease.
     * Nothing happens once the delivery has been started (SENDING, or claimed under a token) or settled.
     */
    public void giveBackUnstarted(long deliveryId) {
        jdbc.update("UPDATE delivery SET next_attempt_at = now(), updated_at = now()"
                + " WHERE id = ? AND state IN ('PENDING', 'PARKED') AND claim_token IS NULL AND next_attempt_at > now()", deliveryId);
    }

    /**
     * An operator's resend, recorded PENDING, unless one of this delivery is already in progress or
     * was sent (or is still unsure) within {@code guard}: two clicks or two operators give one resend.
     * Atomic: a unique index allows one open resend per delivery, and the recent one is checked in the
     * same statement. Empty when refused.
     */
    public Optional<Long> requestResend(long deliveryId, String requestedBy, String comment, Duration guard) {
        return jdbc.queryForList("""
                INSERT INTO delivery_resend (delivery_id, requested_by, comment, outcome)
                SELECT ?, ?, ?, 'PENDING'
                WHERE NOT EXISTS (SELECT 1 FROM delivery_resend WHERE delivery_id = ? AND requested_at > now() - make_interval(secs => ?)
                                  AND (outcome IS NULL OR outcome NOT IN ('FAILED', 'SKIPPED')))
                ON CONFLICT (delivery_id) WHERE outcome IN ('PENDING', 'SENDING', 'PARKED') DO NOTHING
                RETURNING id""", Long.class, deliveryId, requestedBy, comment, deliveryId, guard.toMillis() / 1000.0)
                .stream().findFirst();
    }

    /**
     * Claims a resend (just requested, or parked and due) for its send with {@code token} (one per attempt,
     * {@link #newClaimToken}). The same token takes it again while it is SENDING: a claim whose COMMIT reached PostgreSQL
     * but whose acknowledgement was lost with the connection is retried by its attempt once the database answers, finds
     * the resend SENDING under its own token, and nothing was sent for it yet. Any other token finds it taken.
     */
    public Optional<Claim> claimResend(long resendId, UUID token) {
        return jdbc.queryForList("""
                UPDATE delivery_resend SET outcome = 'SENDING', claim_token = ?, next_attempt_at = NULL, updated_at = now()
                WHERE id = ? AND (outcome IN ('PENDING', 'PARKED') OR (outcome = 'SENDING' AND claim_token = ?))
                RETURNING delivery_id""", Long.class, token, resendId, token)
                .stream().findFirst().map(deliveryId -> new Claim(deliveryId, resendId, token));
    }

    /**
     * Whether this sender still holds its claim (its row SENDING with its token); if so, the claim is renewed (updated_at now)
     * so that the stale sweep (settleStale), which takes SENDING rows not changed for herald.delivery.sending-timeout, leaves it
     * to its sender. False: the sweep has settled it meanwhile. The row lock orders the two: one of them wins, never both.
     */
    public boolean renewClaim(Claim claim) {
        return claim.resend()
                ? jdbc.update("UPDATE delivery_resend SET updated_at = now() WHERE id = ? AND claim_token = ? AND outcome = 'SENDING'",
                        claim.resendId(), claim.token()) == 1
                : jdbc.update("UPDATE delivery SET updated_at = now() WHERE id = ? AND claim_token = ? AND state = 'SENDING'",
                        claim.deliveryId(), claim.token()) == 1;
    }

    /**
     * This claim's sender found it withdrawn before calling the provider (ClaimKept): the stale sweep settled it while the
     * sender waited. Nothing was sent, so a delivery the sweep made UNCERTAIN ("check whether the customer received it") is
     * FAILED instead, saying so, for an operator to retry if the customer still needs it; one it PARKED is sent by its re-drive
     * as it is. Returns the reason, in words.
     */
    public String notSentAfterWithdrawal(Claim claim, Duration waited) {
        String reason = claim.label() + "not sent: its sender waited " + waited.toSeconds() + " s (for the database or a rate-limit"
                + " permit), longer than"
                + " herald.delivery.sending-timeout, and the delivery was settled meanwhile as cut off; nothing reached the provider,"
                + " so it is FAILED, not UNCERTAIN: retry it if the customer still needs it";
        String failedAt = claim.resend() ? "" : ", failed_at = COALESCE(failed_at, now())";
        int corrected = jdbc.update("""
                WITH ended AS (UPDATE %s SET %s = 'FAILED', reason = ?, updated_at = now()%s%s
                               WHERE id = ? AND %s = 'UNCERTAIN' AND claim_token IS NULL RETURNING %s)
                INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT delivery_id, 'FAILED', ? FROM ended"""
                        .formatted(table(claim), stateColumn(claim), failedAt,
                                claim.resend() ? "" : ", provider_message_id = NULL",   // the sweep's Message-ID named a mail never sent
                                stateColumn(claim), claim.resend() ? "delivery_id" : "id AS delivery_id"),
                reason, rowId(claim), reason);
        return corrected == 1 ? reason : claim.label() + "not sent: its sender waited " + waited.toSeconds()
                + " s (for the database or a rate-limit permit) and the delivery was settled meanwhile (now " + (claim.resend() ? resendState(claim.resendId())
                : jdbc.queryForObject("SELECT state FROM delivery WHERE id = ?", String.class, claim.deliveryId())) + "); it goes on from there";
    }

    /** Asks PostgreSQL whether it answers; throws (an infrastructure fault) when it does not. */
    public void ping() {
        jdbc.queryForObject("SELECT 1", Integer.class);
    }

    /**
     * A newer event made a notice pointless (SupersedingEvents, catalog cancelled-by): this customer's PARKED deliveries of
     * notifications of {@code type} naming {@code value} in {@code field} (refs, then data) are CANCELLED with the reason,
     * never sent (a parked retry, perhaps waiting for quiet hours); only those that occurred before {@code occurredBefore}
     * when given (a newer one of their own type). Returns their notifications.
     */
    public List<Long> cancelParkedNaming(String customerId, String type, String field, String value, String reason, Instant occurredBefore) {
        return jdbc.queryForList("""
                WITH ended AS (
                  UPDATE delivery d SET state = 'CANCELLED', reason = ?, next_attempt_at = NULL, updated_at = now()
                  FROM notification n
                  WHERE n.id = d.notification_id AND n.customer_id = ? AND n.type = ? AND d.state = 'PARKED' AND d.claim_token IS NULL
                    AND COALESCE(n.canonical -> 'refs' ->> ?, herald_canonical(n.id, n.received_at, n.canonical) -> 'data' ->> ?) = ?
                    AND COALESCE(n.occurred_at, '-infinity') < ?::timestamptz
                  RETURNING d.id, d.notification_id),
                 kept AS (INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, 'CANCELLED', ? FROM ended)
                SELECT DISTINCT notification_id FROM ended""", Long.class, reason, customerId, type, field, field, value,
                occurredBefore == null ? "infinity" : occurredBefore.toString(), reason);
    }

    /** A resend's state (its outcome column), or "unknown". */
    public String resendState(long resendId) {
        return jdbc.query("SELECT outcome FROM delivery_resend WHERE id = ?", (row, n) -> row.getString(1), resendId)
                .stream().findFirst().orElse("unknown");
    }

    /** The channel this notification was already sent on, if any (first-success strategy stops there). */
    public String sentChannel(long notificationId) {
        return jdbc.query("SELECT channel FROM delivery WHERE notification_id = ? AND state IN ('SENT', 'DELIVERED') ORDER BY sent_at LIMIT 1",
                (row, n) -> row.getString(1), notificationId).stream().findFirst().orElse(null);
    }

    /**
     * For a delivery of a first-success chain (a notification with a step that names its next channel): another step of
     * the chain still on its way to the customer, or that may have reached them (UNCERTAIN), as "channel (STATE)", or
     * null. Retrying this step as well could then reach the customer on two channels. The notification's deliveries are
     * locked first (the caller's transaction), so two retries of two steps at once are decided one after the other.
     */
    public String chainStepOnItsWay(long deliveryId) {
        jdbc.query("SELECT o.id FROM delivery d JOIN delivery o ON o.notification_id = d.notification_id WHERE d.id = ? ORDER BY o.id"
                + " FOR UPDATE OF o", row -> { }, deliveryId);
        return jdbc.query("""
                SELECT o.channel || ' (' || o.state || ')' FROM delivery d
                JOIN delivery o ON o.notification_id = d.notification_id AND o.id <> d.id
                WHERE d.id = ?
                  AND EXISTS (SELECT 1 FROM delivery c WHERE c.notification_id = d.notification_id AND c.next_channel IS NOT NULL)
                  AND o.state IN (%s, 'AWAITING_APPROVAL', 'SCHEDULED', 'HELD', 'UNCERTAIN')
                ORDER BY o.id LIMIT 1""".formatted(IN_PROGRESS), (row, n) -> row.getString(1), deliveryId).stream().findFirst().orElse(null);
    }

    /**
     * Sent: the state, the provider's id, and the attempt (with the provider's status, if it gave one),
     * in one statement. A resend's success is kept on its own row; the delivery moves to SENT only if
     * the customer had not received it (failed, uncertain, dismissed...): a SENT record is never changed.
     */
    public boolean sent(Claim claim, String providerMessageId, Integer providerStatus) {
        return sent(claim, providerMessageId, providerStatus, null).written();
    }

    /**
     * The provider accepted the message: SENT, and flagged as sent after its window in the same statement when it was
     * (looked at only when {@code lateCheckAt}, the send's time by Herald's clock, is given). An operator's resend is kept on its resend row, and sets the delivery SENT
     * only when the provider had not received it; a resend is a deliberate late send and is never flagged.
     */
    public SentRecord sent(Claim claim, String answeredId, Integer providerStatus, Instant lateCheckAt) {
        return sent(claim, answeredId, providerStatus, lateCheckAt, null);
    }

    /** As above; {@code note}: why the provider's answer gave no id (ProviderAnswerRead), kept as the SENT record's reason. */
    public SentRecord sent(Claim claim, String answeredId, Integer providerStatus, Instant lateCheckAt, String note) {
        return sent(claim, answeredId, providerStatus, lateCheckAt, note, null);
    }

    /**
     * As above; {@code device}: the device whose answer settled a push (not a resend's), written in the same transaction as
     * the SENT record (null: none).
     */
    public SentRecord sent(Claim claim, String answeredId, Integer providerStatus, Instant lateCheckAt, String note, DeviceSent device) {
        // The provider's id as it can be stored (no control characters, at most the column's 300): an id PostgreSQL refused
        // made the SENT write fail and the delivery FAILED, which an operator's retry would then send again.
        String providerMessageId = StoredText.label(answeredId, 300);
        SentRecord record = claim.resend()
                ? jdbc.update("""
                        WITH sent AS (UPDATE delivery_resend SET outcome = 'SENT', provider_message_id = ?, reason = ?,
                                             next_attempt_at = NULL, claim_token = NULL, updated_at = now()
                                      WHERE id = ? AND claim_token = ? RETURNING delivery_id),
                             received AS (UPDATE delivery SET state = 'SENT', provider_message_id = ?, reason = ?, next_attempt_at = NULL,
                                                 sent_at = now(), updated_at = now()
                                          WHERE id IN (SELECT delivery_id FROM sent) AND state IN (%s) RETURNING id)
                        INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason)
                        SELECT delivery_id, 'SENT', ?, ? FROM sent""".formatted(NOT_RECEIVED),
                        providerMessageId, note, claim.resendId(), claim.token(), providerMessageId, "sent by resend " + claim.resendId(),
                        // a channel whose provider gives no id (the ops webhook) and no note: "resend 12: sent", not "resend 12: null"
                        providerStatus, claim.label() + (note != null ? note : providerMessageId != null ? providerMessageId : "sent"))
                        > 0 ? SentRecord.SENT : SentRecord.NOT_WRITTEN
                : grouped.write(sents, new Sent(claim, providerMessageId, providerStatus, lateCheckAt, note, device));
        writtenOrLate(claim, record.written() ? 1 : 0, "the provider accepted it" + (providerMessageId == null ? "" : " as " + providerMessageId),
                providerStatus);
        return record;
    }

    /**
     * The claimed delivery goes on to another address of the customer's (push: the next token after a dead one): the delivery
     * names that one, masked, as the console and the API show it. A resend's own address is not the delivery's: left alone.
     */
    public void readdressed(Claim claim, String recipientMasked) {
        if (claim == null || claim.resend()) {
            return;
        }
        jdbc.update("UPDATE delivery SET recipient_masked = ? WHERE id = ? AND claim_token = ?", StoredText.label(recipientMasked, 320),
                claim.deliveryId(), claim.token());
    }

    /** Not sent (opted out, no address...): the delivery, unless settled or claimed by a sender meanwhile, keeps the reason. */
    public void skipped(long deliveryId, String reason) {
        jdbc.update("UPDATE delivery SET state = 'SKIPPED', reason = ?, updated_at = now() WHERE id = ? AND state NOT IN (%s)"
                .formatted(SETTLED_LIST), reason, deliveryId);
    }

    /**
     * A resend that ends before it was claimed for a send (SKIPPED: opted out, no address; FAILED: its
     * template does not render), with its reason, also kept as an attempt of the delivery.
     */
    public void resendNotSent(long resendId, String outcome, String reason) {
        jdbc.update("""
                WITH ended AS (UPDATE delivery_resend SET outcome = ?, reason = ?, updated_at = now()
                               WHERE id = ? AND outcome IN ('PENDING', 'PARKED') RETURNING delivery_id)
                INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT delivery_id, ?, ? FROM ended""",
                outcome, reason, resendId, outcome, "resend " + resendId + ": " + reason);
    }

    /** How often this delivery (or this resend) has been parked so far. */
    public int parkedCount(Claim claim) {
        return claim.resend()
                ? jdbc.queryForObject("SELECT parked_count FROM delivery_resend WHERE id = ?", Integer.class, claim.resendId())
                : jdbc.queryForObject("SELECT parked_count FROM delivery WHERE id = ?", Integer.class, claim.deliveryId());
    }

    /**
     * How often this delivery (or this resend of it) was parked with a reason containing {@code saying}: its parks for one
     * cause, not its parks for all (parkedCount), e.g. a template caught empty after the delivery was parked by an outage.
     */
    public int parkedFor(long deliveryId, Long resendId, String saying) {
        String like = "%" + saying.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
        return jdbc.queryForObject("SELECT count(*) FROM delivery_attempt WHERE delivery_id = ? AND outcome = 'PARKED' AND reason LIKE ?"
                + (resendId == null ? " AND reason NOT LIKE 'resend %'" : " AND reason LIKE ?"), Integer.class,
                resendId == null ? new Object[] {deliveryId, like} : new Object[] {deliveryId, like, "resend " + resendId + ": %"});
    }

    /** Parked until its next attempt, and the attempt that led to it kept with the same reason. */
    public boolean parked(Claim claim, String reason, Instant nextAttemptAt, Integer providerStatus) {
        return parked(claim, reason, nextAttemptAt, providerStatus, true);
    }

    /**
     * Parked until its next attempt; {@code countsAsPark} false keeps its place in the park schedule
     * (parked_count unchanged): the attempt never reached the provider (the open circuit breaker turned
     * it away), so it must not bring the delivery closer to FAILED.
     */
    public boolean parked(Claim claim, String reason, Instant nextAttemptAt, Integer providerStatus, boolean countsAsPark) {
        ErasableReason why = ErasableReason.of(claim, reason);
        int written = jdbc.update("""
                %s parked AS (UPDATE %s SET %s = 'PARKED', reason = %s, next_attempt_at = ?, parked_count = parked_count + %s,
                                       claim_token = NULL, updated_at = now() WHERE id = ? AND claim_token = ? RETURNING %s)
                INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) SELECT delivery_id, 'PARKED', ?, %s FROM parked"""
                        .formatted(why.with(), table(claim), stateColumn(claim), why.choice(), countsAsPark ? "1" : "0",
                                claim.resend() ? "delivery_id" : "id AS delivery_id", why.choice()),
                why.values(why.checked(), why.reasons(reason), Timestamp.from(nextAttemptAt), rowId(claim), claim.token(), providerStatus,
                        why.reasons(claim.label() + reason)));
        return writtenOrLate(claim, written, "it would have been parked: " + reason, providerStatus);
    }

    /** Failed for good, and the attempt that ended it kept with the same reason. */
    public boolean failed(Claim claim, String reason, Integer providerStatus) {
        return ended(claim, "FAILED", reason, providerStatus);
    }

    /**
     * Outcome unknown (the message may have reached the customer): flagged for a person, never sent
     * again by Herald itself, as after a crash.
     */
    public boolean uncertain(Claim claim, String reason) {
        return uncertain(claim, reason, null);
    }

    /**
     * The same, keeping the id the provider would know the message by when Herald gave it one (an email's Message-ID: this
     * attempt's, replacing an earlier attempt's), so a receipt that names it later (delivered, bounced) settles the
     * UNCERTAIN delivery (receipt). A resend's is not kept (receipts for resends are not matched).
     */
    public boolean uncertain(Claim claim, String reason, String providerMessageId) {
        if (providerMessageId != null && !claim.resend()) {
            jdbc.update("UPDATE delivery SET provider_message_id = ? WHERE id = ? AND claim_token = ?",   // this attempt's, not an earlier one's
                    providerMessageId, claim.deliveryId(), claim.token());
        }
        return ended(claim, "UNCERTAIN", reason, null);
    }

    private boolean ended(Claim claim, String state, String reason, Integer providerStatus) {
        String failedAt = claim.resend() ? "" : ", failed_at = COALESCE(failed_at, now())";
        ErasableReason why = ErasableReason.of(claim, reason);
        int written = jdbc.update("""
                %s ended AS (UPDATE %s SET %s = ?, reason = %s, next_attempt_at = NULL, claim_token = NULL, updated_at = now()%s
                               WHERE id = ? AND claim_token = ? RETURNING %s)
                INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) SELECT delivery_id, ?, ?, %s FROM ended"""
                        .formatted(why.with(), table(claim), stateColumn(claim), why.choice(), failedAt,
                                claim.resend() ? "delivery_id" : "id AS delivery_id", why.choice()),
                why.values(why.checked(), state, why.reasons(reason), rowId(claim), claim.token(), state, providerStatus,
                        why.reasons(claim.label() + reason)));
        return writtenOrLate(claim, written, "it would have been " + state + ": " + reason, providerStatus);
    }

    /**
     * Failed before it was claimed for a send (its template does not render): recorded like any
     * failure, unless the row is settled or claimed by another attempt (then it stays as it is).
     */
    public boolean failedUnclaimed(long deliveryId, String reason, Integer providerStatus) {
        return jdbc.update("""
                WITH ended AS (UPDATE delivery SET state = 'FAILED', reason = ?, next_attempt_at = NULL, failed_at = COALESCE(failed_at, now()),
                                      updated_at = now() WHERE id = ? AND claim_token IS NULL AND state NOT IN (%s) RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) SELECT id, 'FAILED', ?, ? FROM ended"""
                        .formatted(SETTLED_LIST),
                reason, deliveryId, providerStatus, reason) == 1;
    }

    /**
     * Parked before it was claimed for a send (its template was empty when rendered, perhaps being saved): tried again at
     * {@code nextAttemptAt}, counted as a park, and the attempt kept with the reason; a resend ({@code resendId} not null) on
     * its own row. Nothing changes when the row is settled or claimed by another attempt.
     */
    public boolean parkedUnclaimed(long deliveryId, Long resendId, String reason, Instant nextAttemptAt) {
        if (resendId != null) {
            return jdbc.update("""
                    WITH parked AS (UPDATE delivery_resend SET outcome = 'PARKED', reason = ?, next_attempt_at = ?,
                                           parked_count = parked_count + 1, updated_at = now()
                                    WHERE id = ? AND outcome IN ('PENDING', 'PARKED') RETURNING delivery_id)
                    INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT delivery_id, 'PARKED', ? FROM parked""",
                    reason, Timestamp.from(nextAttemptAt), resendId, "resend " + resendId + ": " + reason) == 1;
        }
        return jdbc.update("""
                WITH parked AS (UPDATE delivery SET state = 'PARKED', reason = ?, next_attempt_at = ?, parked_count = parked_count + 1,
                                       updated_at = now() WHERE id = ? AND claim_token IS NULL AND state NOT IN (%s) RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, 'PARKED', ? FROM parked"""
                        .formatted(SETTLED_LIST),
                reason, Timestamp.from(nextAttemptAt), deliveryId, reason) == 1;
    }

    /** The outcome was written; or it came too late (another attempt holds the row now) and is kept as a LATE attempt only. */
    private boolean writtenOrLate(Claim claim, int written, String what, Integer providerStatus) {
        if (written > 0) {
            return true;
        }
        String reason = claim.label() + "an answer came after this attempt had been given up (timed out, or taken over by a newer"
                + " attempt): " + what + "; the delivery was left as it is";
        attempt(claim.deliveryId(), "LATE", providerStatus, reason);
        log.warn("Delivery {}: {}", claim.deliveryId(), reason);
        return false;
    }

    private static String table(Claim claim) {
        return claim.resend() ? "delivery_resend" : "delivery";
    }

    private static String stateColumn(Claim claim) {
        return claim.resend() ? "outcome" : "state";
    }

    private static long rowId(Claim claim) {
        return claim.resend() ? claim.resendId() : claim.deliveryId();
    }

    /** A delivery dispatch hands to its channel's sender: the notification, the channel, the customer it is for. */
    public record Queued(long notificationId, String channel, String customerId, String nextChannel) {
        /** A delivery that queues no channel after it (strategy all, or the last channel of a first-success chain). */
        public Queued(long notificationId, String channel, String customerId) {
            this(notificationId, channel, customerId, null);
        }
    }

    /**
     * Queues deliveries for their channels' senders in one statement (one transaction): each becomes a
     * PENDING row due now, in the order given. A row already there (a notification read again after a
     * crash, a redelivery) stays exactly as it is, so a notification is queued once whatever Kafka
     * redelivers. From here the ledger, not the consumer, carries the delivery. Returns the rows added.
     */
    public int queue(List<Queued> deliveries) {
        if (deliveries.isEmpty()) {
            return 0;
        }
        Long[] notifications = deliveries.stream().map(Queued::notificationId).toArray(Long[]::new);
        String[] channels = deliveries.stream().map(Queued::channel).toArray(String[]::new);
        String[] customers = deliveries.stream().map(Queued::customerId).toArray(String[]::new);
        String[] nexts = deliveries.stream().map(Queued::nextChannel).toArray(String[]::new);
        return jdbc.update(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    INSERT INTO delivery (notification_id, channel, state, customer_id, next_attempt_at, next_channel)
                    SELECT q.notification_id, q.channel, 'PENDING', q.customer_id, now(), q.next_channel
                    FROM unnest(?::bigint[], ?::varchar[], ?::varchar[], ?::varchar[]) WITH ORDINALITY
                         AS q(notification_id, channel, customer_id, next_channel, n)
                    ORDER BY q.n
                    ON CONFLICT (notification_id, channel) DO NOTHING""");
            statement.setArray(1, con.createArrayOf("bigint", notifications));
            statement.setArray(2, con.createArrayOf("varchar", channels));
            statement.setArray(3, con.createArrayOf("varchar", customers));
            statement.setArray(4, con.createArrayOf("varchar", nexts));
            return statement;
        });
    }

    /** A first-success step whose next channel was never queued (ChainsCutOff). */
    public record UnfollowedStep(long notificationId, String type, String customerId, String channel, String state, String nextChannel,
                                 Instant endedAt) {
    }

    /**
     * First-success steps a sender ended (FAILED, UNCERTAIN, or SKIPPED for a reason other than "not needed") after
     * {@code after} and at least {@code grace} before the database's now, whose next channel (next_channel, recorded when
     * the step was queued) has no row: the sender stopped between writing the outcome and queueing the next channel.
     * Oldest first. An erased customer's (their unsent deliveries were SKIPPED by the erasure) are not chains to follow.
     */
    public List<UnfollowedStep> unfollowedSteps(Instant after, Duration grace, int limit) {
        return jdbc.query("""
                SELECT d.notification_id, n.type, n.customer_id, d.channel, d.state, d.next_channel, d.updated_at
                FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE (d.state IN ('FAILED', 'UNCERTAIN') OR (d.state = 'SKIPPED' AND d.reason NOT LIKE 'not needed:%'))
                  AND d.next_channel IS NOT NULL
                  AND d.updated_at > ? AND d.updated_at <= now() - make_interval(secs => ?)
                  AND NOT EXISTS (SELECT 1 FROM delivery x WHERE x.notification_id = d.notification_id AND x.channel = d.next_channel)
                  AND NOT EXISTS (SELECT 1 FROM customer_erasure e WHERE e.customer_id = n.customer_id)
                ORDER BY d.updated_at LIMIT ?""",
                (row, n) -> new UnfollowedStep(row.getLong("notification_id"), row.getString("type"), row.getString("customer_id"),
                        row.getString("channel"), row.getString("state"), row.getString("next_channel"), row.getTimestamp("updated_at").toInstant()),
                Timestamp.from(after), grace.toSeconds(), limit);
    }

    /** The database's clock, less {@code before}: where a look at recent rows ends. */
    public Instant databaseNowLess(Duration before) {
        return jdbc.queryForObject("SELECT now() - make_interval(secs => ?)", Timestamp.class, before.toSeconds()).toInstant();
    }

    /** The claim of due deliveries ({@link #claimDue}): lease in seconds, channel, limit. */
    static final String CLAIM_DUE = """
            WITH claimed AS (
              UPDATE delivery SET next_attempt_at = now() + make_interval(secs => ?), updated_at = now()
              WHERE id IN (SELECT q.id FROM delivery q
                           WHERE q.channel = ? AND q.state IN ('PENDING', 'PARKED') AND q.next_attempt_at <= now()
                             AND NOT EXISTS (SELECT 1 FROM delivery e WHERE e.channel = q.channel AND e.customer_id = q.customer_id
                                             AND e.id < q.id AND e.state IN ('PENDING', 'SENDING') OFFSET 0)
                           ORDER BY q.next_attempt_at, q.id LIMIT ? FOR UPDATE SKIP LOCKED)
              RETURNING id, notification_id, channel, state)
            SELECT claimed.id AS delivery_id, claimed.notification_id, claimed.channel, claimed.state AS delivery_state,
                   CASE WHEN claimed.state <> 'PENDING' THEN NULL
                        WHEN EXISTS (SELECT 1 FROM scheduled_send s WHERE s.notification_id = claimed.notification_id
                                     AND s.state IN ('FIRED', 'SCHEDULED')) THEN 'FIRED'
                        WHEN EXISTS (SELECT 1 FROM scheduled_send s WHERE s.notification_id = claimed.notification_id AND s.state = 'SENT_NOW'
                                     AND NOT EXISTS (SELECT 1 FROM approval r WHERE r.notification_id = s.notification_id
                                                     AND r.decided_at > s.decided_at)) THEN NULL
                        WHEN EXISTS (SELECT 1 FROM approval a WHERE a.notification_id = claimed.notification_id
                                     AND (a.approved_digests IS NULL OR a.approved_digests ->> claimed.channel IS NOT NULL)) THEN 'APPROVED'
                   END AS released_by,
                   herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical, n.traceparent, c.*   -- traceparent: tracing (issue 15)
            FROM claimed JOIN notification n ON n.id = claimed.notification_id
            LEFT JOIN customer c ON c.customer_id = n.customer_id
            ORDER BY claimed.id""";

    /**
     * The next deliveries of one channel to send, claimed for this instance in one statement: queued
     * (PENDING) and parked ones that are due, oldest first, FOR UPDATE SKIP LOCKED, each leased for
     * {@code lease} (next_attempt_at moves ahead) so no other instance takes it meanwhile; one left
     * behind by an instance that stopped is claimed again when its lease ends. A delivery waits while
     * an earlier one of the same customer on the same channel is still PENDING or SENDING, so one
     * customer's messages go out in order whichever instance sends them. Each row comes with its
     * notification (canonical JSON), the customer's directory entry (customer columns null if the
     * customer is not in the directory) and {@code released_by} (a PENDING delivery dispatch did not judge for quiet hours:
     * FIRED, its scheduled send's timer released it, or it waits SCHEDULED again for quiet hours (a delivery of it that
     * came back to PENDING meanwhile, one a claim gave back or a first-success chain's next channel, is judged); APPROVED, a channel of a notification held for approval whose message
     * an approver approved, in whatever state the approval is now, unless an operator sent it now from the Scheduled page
     * (SENT_NOW) after its last approval: quiet hours are judged for it,
     * io.herald.dispatch.QuietHoursBeforeSend; a channel never approved, a first-success chain's next one, is not judged
     * here but goes on to its approval check, which holds it for an approver at once), for {@code rows} to map.
     *
     * <p>The earlier-delivery check is a lookup per candidate ({@code OFFSET 0} keeps PostgreSQL from turning it
     * into a join): planned as a join while the table's statistics still say no delivery is in flight (a burst
     * fills the queue faster than autovacuum analyzes it), every candidate was compared with every delivery in
     * flight on the channel, 98 ms for 64 rows against 3,000 in flight and seconds in a benchmark burst, instead of
     * under a millisecond ({@code ClaimPlanTest}).
     */
    public <T> List<T> claimDue(String channel, int limit, Duration lease, RowMapper<T> rows) {
        return jdbc.query(CLAIM_DUE, rows, lease.toMillis() / 1000.0, channel, limit);
    }

    /**
     * A claimed delivery that must wait for its customer's quiet hours: until when (the time left from now), why, and whether
     * it waits SCHEDULED with its notification's scheduled send (io.herald.schedule.ScheduledSends.scheduleAfterClaim) or,
     * when that cannot take it, PARKED until then.
     */
    public record QuietWait(long deliveryId, Duration remaining, String reason, boolean scheduled) {
    }

    /**
     * Deliveries the sender claimed (a parked retry, a fired scheduled send, an approved one) that came due inside their
     * customer's quiet hours, in one statement: SCHEDULED (not due: their notification's timer releases them) or else
     * PARKED until the quiet hours end, not offered to the provider and not counted as a park (as one the open breaker
     * turned away), with the reason and an attempt (QUIET_HOURS) each. A parked one's end is written as the wait from the
     * database's now, which decides when a parked row is due. A row no longer waiting for a sender (settled, or claimed for
     * a send meanwhile) is left as it is. Returns the deliveries that wait.
     */
    public int waitForQuietHours(List<QuietWait> waits) {
        if (waits.isEmpty()) {
            return 0;
        }
        return jdbc.update(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    WITH v AS (SELECT * FROM unnest(?::bigint[], ?::float8[], ?::text[], ?::boolean[]) AS v(id, wait_secs, reason, scheduled)),
                         waiting AS (UPDATE delivery d SET state = CASE WHEN v.scheduled THEN 'SCHEDULED' ELSE 'PARKED' END, reason = v.reason,
                                            next_attempt_at = CASE WHEN v.scheduled THEN NULL ELSE now() + make_interval(secs => v.wait_secs) END,
                                            updated_at = now()
                                     FROM v WHERE d.id = v.id AND d.state IN ('PENDING', 'PARKED') AND d.claim_token IS NULL
                                     RETURNING d.id, v.reason)
                    INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, 'QUIET_HOURS', reason FROM waiting""");
            statement.setArray(1, con.createArrayOf("bigint", waits.stream().map(QuietWait::deliveryId).toArray()));
            statement.setArray(2, con.createArrayOf("float8", waits.stream().map(w -> w.remaining().toMillis() / 1000.0).toArray()));
            statement.setArray(3, con.createArrayOf("text", waits.stream().map(QuietWait::reason).toArray()));
            statement.setArray(4, con.createArrayOf("boolean", waits.stream().map(QuietWait::scheduled).toArray()));
            return statement;
        });
    }

    /**
     * A notification's scheduled send was made again for the end of its customer's quiet hours
     * (io.herald.schedule.ScheduledSends.scheduleAfterClaim): its other customer deliveries still waiting for a sender
     * (PENDING or PARKED, not claimed for a send, not among {@code except}) wait SCHEDULED with it, with the reason
     * ("sms " + {@code reason}) and an attempt (QUIET_HOURS) each. One another instance's claim holds right now is skipped
     * (waiting for it could close a lock cycle): that claim judges it, with the scheduled send's state as the claim saw it,
     * and a PENDING delivery of a SCHEDULED notification is judged anyway (CLAIM_DUE). The ops webhook (the internal team) is not held. Returns how many.
     */
    public int scheduleOthers(long notificationId, Collection<Long> except, String reason) {
        return jdbc.update(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    WITH waiting AS (UPDATE delivery SET state = 'SCHEDULED', reason = channel || ' ' || ?, next_attempt_at = NULL,
                                            updated_at = now()
                                     WHERE id IN (SELECT id FROM delivery WHERE notification_id = ? AND state IN ('PENDING', 'PARKED')
                                                    AND claim_token IS NULL AND channel <> 'ops_webhook' AND NOT id = ANY(?)
                                                  FOR UPDATE SKIP LOCKED)
                                     RETURNING id, reason)
                    INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, 'QUIET_HOURS', reason FROM waiting""");
            statement.setString(1, reason);
            statement.setLong(2, notificationId);
            statement.setArray(3, con.createArrayOf("bigint", except.toArray()));
            return statement;
        });
    }

    /** A delivery's state (null if there is no such row). */
    public String state(long deliveryId) {
        return jdbc.query("SELECT state FROM delivery WHERE id = ?", (row, n) -> row.getString(1), deliveryId).stream().findFirst().orElse(null);
    }

    /**
     * Claims parked resends that are due, for this instance: their next attempt moves a lease ahead so
     * another instance (or the next poll) does not take them while they run. Each comes back with its
     * resend_id, so it is re-driven as that resend (its own provider key). Parked deliveries are claimed
     * by their channel's sender (claimDue). Only resends of {@code channels} (those whose route is running) are claimed.
     */
    public List<Map<String, Object>> claimDueResends(int limit, Duration lease, Collection<String> channels) {
        if (channels.isEmpty()) {
            return List.of();
        }
        return jdbc.queryForList("""
                UPDATE delivery_resend r SET next_attempt_at = now() + make_interval(secs => ?), updated_at = now()
                FROM delivery d
                WHERE d.id = r.delivery_id AND r.id IN (SELECT p.id FROM delivery_resend p JOIN delivery c ON c.id = p.delivery_id
                                                         WHERE p.outcome = 'PARKED' AND p.next_attempt_at <= now() AND c.channel = ANY(?)
                                                         ORDER BY p.next_attempt_at LIMIT ? FOR UPDATE OF p SKIP LOCKED)
                RETURNING d.id, d.notification_id, d.channel, r.id AS resend_id""", lease.toSeconds(), channels.toArray(String[]::new), limit);
    }

    /**
     * A resend just recorded (PENDING) whose channel route was not running when it was to be sent (an operator stopped or
     * suspended deliver-&lt;channel&gt; in Hawtio): PARKED and due now, with {@code reason}, kept as an attempt, so the
     * parked-resends poll sends it as that resend once the route runs again (ParkedDeliveries claims only resends whose route
     * is started). Nothing was sent for it.
     */
    public void parkForStoppedRoute(long deliveryId, long resendId, String reason) {
        if (jdbc.update("UPDATE delivery_resend SET outcome = 'PARKED', next_attempt_at = now(), reason = ?, updated_at = now()"
                + " WHERE id = ? AND outcome = 'PENDING'", reason, resendId) == 1) {
            attempt(deliveryId, "PARKED", null, "resend " + resendId + ": " + reason);
        }
    }

    /**
     * Resends asked for (or approved) and never started: PENDING longer than {@code timeout} and not awaiting an
     * approver, because Herald stopped between recording the resend (or its approval) and claiming it. Nothing was
     * sent for them, so they are PARKED and due now: the parked deliveries' poll re-drives each as that resend, with
     * its own provider key. Each is kept as an attempt; the rows come back.
     */
    public List<Map<String, Object>> driveStrandedResends(Duration timeout) {
        String reason = "the resend was recorded but never started (Herald stopped before sending it); sent now";
        return jdbc.queryForList("""
                WITH stranded AS (
                  UPDATE delivery_resend r SET outcome = 'PARKED', next_attempt_at = now(), reason = ?, updated_at = now()
                  WHERE r.outcome = 'PENDING' AND r.updated_at < now() - make_interval(secs => ?)
                    AND NOT EXISTS (SELECT 1 FROM resend_approval a WHERE a.resend_id = r.id AND a.state = 'AWAITING')
                  RETURNING r.id, r.delivery_id),
                attempts AS (INSERT INTO delivery_attempt (delivery_id, outcome, reason)
                             SELECT delivery_id, 'PARKED', 'resend ' || id || ': ' || ? FROM stranded)
                SELECT id, delivery_id FROM stranded""", reason, timeout.toSeconds(), reason);
    }

    /**
     * Deliveries and resends left SENDING longer than {@code timeout} (a crash cut them off): on a channel
     * in {@code resentChannels} (its provider, or the inbox table, recognises the repeat by its key) PARKED
     * for a re-drive now with the same provider idempotency key; on any other (email, an HTTP channel
     * whose provider does not honour the key) UNCERTAIN: it may have been delivered, so it is flagged for
     * a person, never re-sent by itself. Their claim is withdrawn, so an answer still arriving for them
     * changes nothing. Each is kept as an attempt; the rows come back. {@code messageIdDomain}: the right-hand side of the
     * Message-IDs Herald gives its mail (EmailMessage.domainOf herald.mail.from).
     */
    public List<Map<String, Object>> settleStale(Duration timeout, Collection<String> resentChannels, String messageIdDomain) {
        String channels = String.join(",", resentChannels);
        List<Map<String, Object>> settled = new ArrayList<>();
        if (!resentChannels.contains("push")) {
            // A push cut off while calling one device after another device took it (push_device_send SENT, dispatch.PushDevices)
            // reached the customer: SENT, naming the device that may or may not have got it, not UNCERTAIN (a resend would push
            // the device that had it again, and first-success would send the next channel too).
            settled.addAll(jdbc.queryForList("""
                    UPDATE delivery SET state = 'SENT', sent_at = COALESCE(sent_at, now()), next_attempt_at = NULL,
                      provider_message_id = (SELECT s.provider_message_id FROM push_device_send s WHERE s.delivery_id = delivery.id
                                             AND s.resend_id = 0 AND s.state = 'SENT' ORDER BY s.id LIMIT 1),
                      -- "sent to 1 of 2 devices" as PushDevices words it: of the devices this delivery was for (a dead token is none)
                      reason = (SELECT 'push sent to ' || count(*) FILTER (WHERE s.state = 'SENT')
                                       || CASE WHEN count(*) > count(*) FILTER (WHERE s.state = 'SENT') THEN ' of ' || count(*) || ' devices'
                                               WHEN count(*) = 1 THEN ' device' ELSE ' devices' END
                                       || CASE WHEN count(*) FILTER (WHERE s.state = 'SENT') = 1 THEN ' (push token ' ELSE ' (push tokens ' END
                                       || string_agg(s.token_masked, ', ' ORDER BY s.id) FILTER (WHERE s.state = 'SENT') || ')'
                                FROM push_device_send s WHERE s.delivery_id = delivery.id AND s.resend_id = 0
                                  AND s.state IN ('SENT', 'REFUSED', 'CALLING', 'RETRY_ASKED'))
                        || COALESCE((SELECT '; ' || string_agg('push token ' || s.token_masked || CASE WHEN s.reason LIKE 'not reached: %' THEN ' ' ELSE ' not sent: ' END
                                                            || s.reason, '; ' ORDER BY s.id)
                                     FROM push_device_send s WHERE s.delivery_id = delivery.id AND s.resend_id = 0 AND s.state = 'REFUSED'
                                     HAVING count(*) > 0), '')
                        || COALESCE((SELECT '; push token ' || string_agg(s.token_masked, ', ' ORDER BY s.id) || ' was being called when'
                                            || ' Herald stopped at ' || to_char(delivery.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' || ': it may or may not have arrived there (not called again)'
                                     FROM push_device_send s WHERE s.delivery_id = delivery.id AND s.resend_id = 0 AND s.state = 'CALLING'
                                     HAVING count(*) > 0), ''),
                      claim_token = NULL, updated_at = now()
                    WHERE id IN (SELECT d.id FROM delivery d WHERE d.state = 'SENDING' AND d.channel = 'push'
                                   AND d.updated_at < now() - make_interval(secs => ?)
                                   AND EXISTS (SELECT 1 FROM push_device_send s WHERE s.delivery_id = d.id AND s.resend_id = 0 AND s.state = 'SENT')
                                 FOR UPDATE SKIP LOCKED)
                    RETURNING id, channel, state, reason, notification_id, customer_id,
                              (SELECT n.type FROM notification n WHERE n.id = delivery.notification_id) AS type""", timeout.toSeconds()));
        }
        settled.addAll(jdbc.queryForList("""
                UPDATE delivery SET
                  state = CASE WHEN channel = ANY(resent.channels) THEN 'PARKED' ELSE 'UNCERTAIN' END,
                  next_attempt_at = CASE WHEN channel = ANY(resent.channels) THEN now() ELSE NULL END,
                  reason = CASE WHEN channel = ANY(resent.channels)
                    THEN channel || ' outcome unknown: Herald stopped while calling the provider at ' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
                         || '; sent again with the same idempotency key'
                    WHEN channel = 'email'
                    THEN 'email outcome unknown: Herald stopped while handing it to the SMTP server at ' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
                         || '; check whether the customer received it, and resend if not'
                    ELSE channel || ' outcome unknown: Herald stopped while calling the provider at ' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
                         || '; the provider does not honour the idempotency key, so it is not sent again by itself;'
                         || ' check whether the customer received it, and resend if not' END,
                  failed_at = CASE WHEN channel = ANY(resent.channels) THEN failed_at ELSE COALESCE(failed_at, now()) END,
                  -- the Message-ID the mail was given (io.herald.dispatch.EmailMessage): a receipt naming it settles the delivery
                  provider_message_id = CASE WHEN channel = 'email' AND claim_token IS NOT NULL
                    THEN '<' || id || '.' || replace(CAST(claim_token AS TEXT), '-', '') || '@' || ? || '>' ELSE provider_message_id END,
                  claim_token = NULL,
                  updated_at = now()
                FROM (SELECT string_to_array(?, ',') AS channels) resent
                WHERE id IN (SELECT id FROM delivery WHERE state = 'SENDING' AND updated_at < now() - make_interval(secs => ?)
                             FOR UPDATE SKIP LOCKED)
                RETURNING id, channel, state, reason, notification_id, customer_id,
                          (SELECT n.type FROM notification n WHERE n.id = delivery.notification_id) AS type""", messageIdDomain, channels,
                timeout.toSeconds()));
        settled.addAll(jdbc.queryForList("""
                UPDATE delivery_resend r SET
                  outcome = CASE WHEN d.channel = ANY(resent.channels) THEN 'PARKED' ELSE 'UNCERTAIN' END,
                  next_attempt_at = CASE WHEN d.channel = ANY(resent.channels) THEN now() ELSE NULL END,
                  reason = CASE WHEN d.channel = ANY(resent.channels)
                    THEN 'resend ' || r.id || ': ' || d.channel || ' outcome unknown: Herald stopped while calling the provider at '
                         || to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' || '; sent again with the same resend key'
                    WHEN d.channel = 'email'
                    THEN 'resend ' || r.id || ': email outcome unknown: Herald stopped while handing it to the SMTP server at ' || to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
                         || '; check whether the customer received it'
                    ELSE 'resend ' || r.id || ': ' || d.channel || ' outcome unknown: Herald stopped while calling the provider at '
                         || to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' || '; the provider does not honour the idempotency key, so it is not sent again by itself;'
                         || ' check whether the customer received it' END,
                  claim_token = NULL,
                  updated_at = now()
                FROM delivery d, (SELECT string_to_array(?, ',') AS channels) resent
                WHERE d.id = r.delivery_id AND r.id IN (SELECT id FROM delivery_resend WHERE outcome = 'SENDING'
                                                         AND updated_at < now() - make_interval(secs => ?) FOR UPDATE SKIP LOCKED)
                RETURNING d.id, d.channel, r.outcome AS state, r.reason""", channels, timeout.toSeconds()));
        for (Map<String, Object> row : settled) {
            attempt(((Number) row.get("id")).longValue(), (String) row.get("state"), null, (String) row.get("reason"));
        }
        return settled;
    }

    /** One attempt of a delivery, kept with its outcome, the provider's status and the reason. */
    public void attempt(long deliveryId, String outcome, Integer providerStatus, String reason) {
        ErasableReason why = ErasableReason.of(deliveryId, reason);
        if (!why.quotesAddress()) {
            jdbc.update("INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) VALUES (?, ?, ?, ?)",
                    deliveryId, outcome, providerStatus, reason);
            return;
        }
        jdbc.update("%s INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) SELECT ?, ?, CAST(? AS INTEGER), %s"
                        .formatted(why.check(), why.choice()),
                why.values(why.checked(), deliveryId, outcome, providerStatus, why.reasons(reason)));
    }

    /**
     * An operator's retry of a delivery that failed or is parked: queued for an attempt now through
     * the parked-deliveries route, with the same provider idempotency key and a fresh park schedule.
     * Returns false when the delivery is not (or no longer) in a retryable state. Its earlier failure's alert is forgotten:
     * should the retry fail again (another cause: the number fixed, the credentials now wrong), that is a new failure the team
     * is told of.
     */
    public boolean queueRetry(long deliveryId, String reason) {
        return jdbc.update("UPDATE delivery SET state = 'PARKED', reason = ?, next_attempt_at = now(), parked_count = 0, alerted_at = NULL,"
                + " updated_at = now() WHERE id = ? AND state IN ('FAILED', 'PARKED')", reason, deliveryId) == 1;
    }

    /** Delivery states in which a delivery may still be sent: its notification keeps its payload, retention leaves it alone. */
    public static final String IN_PROGRESS = "'PENDING', 'SENDING', 'RETRYING', 'PARKED', 'DIGEST_WAITING'";

    /** Retention and erasure (issue 16): the rendered subjects and bodies of these notifications' deliveries go; the rows stay. */
    public int removeBodies(Collection<Long> notificationIds) {
        return jdbc.update("DELETE FROM delivery_content c USING delivery_all d WHERE d.id = c.delivery_id"
                + " AND d.notification_id = ANY(CAST(? AS BIGINT[]))", idArray(notificationIds));
    }

    /**
     * Erasure of a customer: their deliveries not yet sent are SKIPPED with the reason (SENDING ones finish their call), and
     * every one loses its rendered message and masked recipient. State, reason and counts stay. SCHEDULED too: the erasure
     * cancelled its waiting notifications first, but a sender's claim that was deciding a quiet-hours wait meanwhile
     * (io.herald.schedule.ScheduledSends.scheduleAfterClaim) can commit one after that (the erasure then ends its scheduled
     * send too).
     */
    public int eraseRecipients(Collection<Long> notificationIds, String reason) {
        String ids = idArray(notificationIds);
        jdbc.update("UPDATE delivery SET state = 'SKIPPED', reason = ?, next_attempt_at = NULL, claim_token = NULL, updated_at = now()"
                + " WHERE notification_id = ANY(CAST(? AS BIGINT[])) AND state IN ('PENDING', 'RETRYING', 'PARKED', 'DIGEST_WAITING', 'SCHEDULED')",
                reason, ids);
        removeBodies(notificationIds);
        return jdbc.update("UPDATE delivery_all SET recipient_masked = NULL WHERE notification_id = ANY(CAST(? AS BIGINT[]))", ids);
    }

    /** Retention: the deliveries of these notifications (none in progress) are deleted, past herald.retention.ledger. */
    public int forget(Collection<Long> notificationIds) {
        return jdbc.update("DELETE FROM delivery WHERE notification_id = ANY(CAST(? AS BIGINT[])) AND state NOT IN (" + IN_PROGRESS + ")",
                idArray(notificationIds));
    }

    private static String idArray(Collection<Long> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}"));
    }

    /**
     * Ops webhook digests. A delivery whose type is posted in digests is recorded DIGEST_WAITING by
     * dispatch (one statement, no provider call); the digest route groups waiting deliveries of a type
     * into a digest (ops_digest row, digest_id on each delivery), posts it once with the key digest-&lt;id&gt;-&lt;created&gt;,
     * then marks its deliveries SENT with that key as provider id. A digest keeps its deliveries until
     * it is posted: a failed post waits for a later interval, and a post cut off by a crash is made again
     * with the same key and the same deliveries.
     */
    public record Digest(long id, String type, int attempts, long createdAtMillis, Timestamp leasedUntil) {
        /**
         * digest-&lt;id&gt;-&lt;created, epoch ms&gt;: the same for every post of the digest, and not the same as another
         * Herald deployment's digest of the same id (staging and production posting to one webhook, each with its
         * own database), which a webhook honouring the key would otherwise drop as a repeat.
         */
        public String key() {
            return "digest-" + id + "-" + createdAtMillis;
        }
    }

    /**
     * Right before its post: whether the digest is still this instance's (its lease is the one the claim set: another
     * instance takes a digest only once that lease ran out, and sets its own), renewing the lease for the post. The posts of
     * one claim go out one after the other behind the webhook's rate limit, so a digest late in the line may have been
     * taken over; it is then not posted a second time.
     */
    public Digest renewDigestLease(Digest digest, Duration lease) {
        List<Timestamp> renewed = jdbc.queryForList("""
                UPDATE ops_digest SET next_attempt_at = now() + make_interval(secs => ?)
                WHERE id = ? AND posted_at IS NULL AND next_attempt_at = ? RETURNING next_attempt_at""", Timestamp.class,
                lease.toMillis() / 1000.0, digest.id(), digest.leasedUntil());
        return renewed.isEmpty() ? null
                : new Digest(digest.id(), digest.type(), digest.attempts(), digest.createdAtMillis(), renewed.get(0));
    }

    /** One waiting line of a digest: its notification and the (masked) ops text rendered at dispatch. */
    public record DigestLine(long notificationId, String text) {
    }

    /**
     * Recorded as waiting for its ops webhook digest, with the masked text it will be listed with; a
     * delivery row already there (redelivered notification) stays as it is unless it is still PENDING.
     */
    public boolean waitForDigest(long notificationId, String channel, String recipientMasked, String renderedBody, String reason) {
        return jdbc.queryForObject("""
                WITH waiting AS (
                  INSERT INTO delivery (notification_id, channel, state, recipient_masked, reason)
                  VALUES (?, ?, 'DIGEST_WAITING', ?, ?)
                  ON CONFLICT (notification_id, channel) DO UPDATE SET state = 'DIGEST_WAITING', recipient_masked = EXCLUDED.recipient_masked,
                         reason = EXCLUDED.reason, updated_at = now()
                  WHERE delivery.state = 'PENDING' RETURNING id, notification_id),
                     content AS (""" + DeliveryContent.INSERT + """
                  SELECT waiting.id, n.received_at, NULL, ? FROM waiting JOIN notification n ON n.id = waiting.notification_id
                  """ + DeliveryContent.REPLACE + """
                  )
                SELECT count(*) FROM waiting""", Integer.class, notificationId, channel, recipientMasked, reason, renderedBody) == 1;
    }

    /**
     * The digests this instance posts now, each leased for {@code lease} so no other instance takes it
     * meanwhile: first digests not yet posted whose next attempt is due (failed, or cut off by a crash),
     * then, per notification type, one new digest of up to {@code maxItems} deliveries waiting outside
     * any digest. Each claim is one transaction with FOR UPDATE SKIP LOCKED, so two instances never put
     * one delivery in two digests nor post one digest at once. A type whose last digest was made less than
     * {@code interval} ago gets none now: every instance's digest route ticks every interval, at times of its own, and a
     * type gets one digest per interval however many instances run (a transaction-scoped advisory lock per type lets
     * one instance at a time make it; another that finds it taken skips the type until its next tick).
     */
    public List<Digest> claimDigests(int maxItems, Duration lease, Duration interval, TransactionTemplate tx) {
        List<Digest> digests = new ArrayList<>(jdbc.query("""
                UPDATE ops_digest SET next_attempt_at = now() + make_interval(secs => ?)
                WHERE id IN (SELECT id FROM ops_digest WHERE posted_at IS NULL AND next_attempt_at <= now()
                             ORDER BY id FOR UPDATE SKIP LOCKED)
                RETURNING id, type, attempts, created_at, next_attempt_at""", (row, n) -> new Digest(row.getLong("id"), row.getString("type"),
                        row.getInt("attempts"), row.getTimestamp("created_at").getTime(), row.getTimestamp("next_attempt_at")),
                lease.toMillis() / 1000.0));
        List<String> types = jdbc.queryForList("""
                SELECT DISTINCT n.type FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE d.state = 'DIGEST_WAITING' AND d.digest_id IS NULL""", String.class);
        for (String type : types) {
            Digest digest = tx.execute(status -> {
                if (!Boolean.TRUE.equals(jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(hashtext('herald.ops-digest'), hashtext(?))",
                        Boolean.class, type))) {
                    return null;   // another instance is making this type's digest now
                }
                if (!interval.isZero() && !jdbc.queryForList("""
                        SELECT id FROM ops_digest WHERE type = ? AND created_at > now() - make_interval(secs => ?)
                        ORDER BY id DESC LIMIT 1""", Long.class, type, interval.toMillis() / 1000.0).isEmpty()) {
                    return null;   // made within this interval (by another instance): its next interval's digest takes them
                }
                Map<String, Object> created = jdbc.queryForMap("INSERT INTO ops_digest (type, next_attempt_at) VALUES (?, now() + make_interval(secs => ?))"
                        + " RETURNING id, created_at, next_attempt_at", type, lease.toMillis() / 1000.0);
                long id = ((Number) created.get("id")).longValue();
                long createdAtMillis = ((java.sql.Timestamp) created.get("created_at")).getTime();
                int items = jdbc.update("""
                        UPDATE delivery SET digest_id = ?, updated_at = now()
                        WHERE id IN (SELECT d.id FROM delivery d JOIN notification n ON n.id = d.notification_id
                                     WHERE d.state = 'DIGEST_WAITING' AND d.digest_id IS NULL AND n.type = ?
                                     ORDER BY d.id LIMIT ? FOR UPDATE OF d SKIP LOCKED)""", id, type, maxItems);
                if (items == 0) {
                    status.setRollbackOnly();   // another instance took them all
                    return null;
                }
                return new Digest(id, type, 0, createdAtMillis, (Timestamp) created.get("next_attempt_at"));
            });
            if (digest != null) {
                digests.add(digest);
            }
        }
        return digests;
    }

    /** How many deliveries a digest lists, and the first {@code lines} of them in order. */
    public int digestSize(long digestId) {
        return jdbc.queryForObject("SELECT count(*) FROM delivery WHERE digest_id = ? AND state = 'DIGEST_WAITING'", Integer.class, digestId);
    }

    public List<DigestLine> digestLines(long digestId, int lines) {
        return jdbc.query("""
                SELECT d.notification_id, c.rendered_body FROM delivery d LEFT JOIN delivery_content c ON c.delivery_id = d.id
                WHERE d.digest_id = ? AND d.state = 'DIGEST_WAITING' ORDER BY d.id LIMIT ?""",
                (row, n) -> new DigestLine(row.getLong(1), row.getString(2)), digestId, lines);
    }

    /**
     * The digest was posted: it is done, and each of its deliveries is SENT with the digest's key as the
     * provider id, an attempt kept for each (one statement). Returns how many deliveries it settled.
     */
    public int digestPosted(Digest digest, Integer providerStatus) {
        return jdbc.update("""
                WITH posted AS (UPDATE ops_digest SET posted_at = now(), attempts = attempts + 1, reason = NULL
                                WHERE id = ? AND posted_at IS NULL RETURNING id),
                     sent AS (UPDATE delivery SET state = 'SENT', provider_message_id = ?, reason = NULL, sent_at = now(),
                                     attempts = attempts + 1, updated_at = now()
                              WHERE digest_id IN (SELECT id FROM posted) AND state = 'DIGEST_WAITING' RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) SELECT id, 'SENT', ?, ? FROM sent""",
                digest.id(), digest.key(), providerStatus, "posted to the ops webhook in digest " + digest.id() + " (" + digest.key() + ")");
    }

    /**
     * The digest's post failed: its deliveries keep waiting in it until {@code nextAttemptAt}, each with
     * the reason and an attempt (outcome WAITING). Returns how many deliveries it concerns.
     */
    public int digestFailed(Digest digest, String reason, Instant nextAttemptAt, Integer providerStatus) {
        return jdbc.update("""
                WITH failed AS (UPDATE ops_digest SET attempts = attempts + 1, reason = ?, next_attempt_at = ?
                                WHERE id = ? AND posted_at IS NULL RETURNING id),
                     waiting AS (UPDATE delivery SET reason = ?, attempts = attempts + 1, updated_at = now()
                                 WHERE digest_id IN (SELECT id FROM failed) AND state = 'DIGEST_WAITING' RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) SELECT id, 'WAITING', ?, ? FROM waiting""",
                reason, Timestamp.from(nextAttemptAt), digest.id(), reason, providerStatus, reason);
    }

    /** An operator decided this delivery needs nothing more; final, with their reason. */
    public boolean dismiss(long deliveryId, String reason) {
        return jdbc.update("UPDATE delivery SET state = 'DISMISSED', reason = ?, next_attempt_at = NULL, updated_at = now()"
                + " WHERE id = ? AND state IN ('FAILED', 'PARKED', 'UNCERTAIN')", reason, deliveryId) == 1;
    }

    /**
     * Delivery receipts (issue 13): what a provider reported later about a message it took. The state
     * moves only forward: a SENT (or UNCERTAIN: the receipt proves it went out) delivery takes the
     * receipt's final state, a DELIVERED one only COMPLAINED (a spam report comes after delivery); any
     * other receipt (a duplicate, a late "sent" or "queued", a second final word) changes nothing. Every
     * receipt is kept as an attempt of its delivery with its outcome and reason, so the timeline shows it. A receipt for a
     * notification whose customer was erased (a late bounce) is kept with any address in its reason read "(erased)":
     * {@code reason} is the reason as written, for the receipt's own row.
     */
    public record ReceiptMatch(Long deliveryId, String stateBefore, boolean applied, String reason) {
        public boolean matched() {
            return deliveryId != null;
        }
    }

    /** {@code finalState} null: an intermediate status (kept as an attempt only, e.g. a deferred email). */
    public ReceiptMatch receipt(String channel, String providerMessageId, String finalState, String attemptOutcome, String reason) {
        List<Map<String, Object>> found = jdbc.queryForList("""
                SELECT d.id, d.state, n.payload_removed_by = 'erasure' AS erased FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE d.channel = ? AND d.provider_message_id = ? ORDER BY d.id LIMIT 1 FOR SHARE OF n""", channel, providerMessageId);
        if (found.isEmpty()) {
            return resendReceipt(channel, providerMessageId, attemptOutcome, reason);
        }
        Delivery delivery = new Delivery(((Number) found.get(0).get("id")).longValue(), (String) found.get(0).get("state"));
        if (Boolean.TRUE.equals(found.get(0).get("erased"))) {
            reason = Masking.withoutAddresses(reason, "(erased)");
        }
        boolean applied = finalState != null && jdbc.update("""
                UPDATE delivery SET state = ?, reason = ?, updated_at = now()
                WHERE id = ? AND (state IN ('SENT', 'UNCERTAIN') OR (state = 'DELIVERED' AND ? = 'COMPLAINED'))""",
                finalState, reason, delivery.id(), finalState) == 1;
        attempt(delivery.id(), attemptOutcome, null, reason);
        return new ReceiptMatch(delivery.id(), delivery.state(), applied, reason);
    }

    /**
     * The provider's own report on a message names this delivery (an SMS status callback's signed ?ref=), and no delivery has
     * the message's id: if the delivery is UNCERTAIN for want of the provider's answer (it has no id), the provider did take
     * the message. SENT with that id, and an attempt saying how Herald learnt it, so the report (and any later one) applies
     * as to any SENT. False, changing nothing, for any other delivery (one with an id of its own, SENDING, settled otherwise).
     */
    public boolean sentAsReported(long deliveryId, String channel, String providerMessageId) {
        String reason = "sent: the " + channel + " provider's own report names this message (" + providerMessageId
                + "); its answer to Herald's call had been lost";
        // The notification first, as receipt() and erasure lock it (the delivery's row after it): the other order could deadlock.
        jdbc.query("SELECT n.id FROM notification n JOIN delivery d ON d.notification_id = n.id WHERE d.id = ? FOR SHARE OF n",
                (java.sql.ResultSet row) -> { }, deliveryId);
        return jdbc.update("""
                WITH reported AS (UPDATE delivery SET state = 'SENT', provider_message_id = ?, reason = ?, sent_at = COALESCE(sent_at, now()),
                                                      updated_at = now()
                                  WHERE id = ? AND channel = ? AND state = 'UNCERTAIN' AND provider_message_id IS NULL AND claim_token IS NULL
                                  RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, 'SENT', ? FROM reported""",
                providerMessageId, reason, deliveryId, channel, reason) == 1;
    }

    /**
     * A receipt for the message of an operator's resend of a delivery the customer had received (the delivery keeps its own
     * message id; a resend of one not received takes the resend's, and its receipts match the delivery above): kept with the
     * delivery, whose state stays that of its own message, as an attempt RESEND_&lt;STATE&gt; saying "resend N: …" in the
     * timeline. Not matched: no resend has this id either.
     */
    private ReceiptMatch resendReceipt(String channel, String providerMessageId, String attemptOutcome, String reason) {
        List<Map<String, Object>> found = jdbc.queryForList("""
                SELECT r.id, r.delivery_id, d.state, n.payload_removed_by = 'erasure' AS erased
                FROM delivery_resend r JOIN delivery d ON d.id = r.delivery_id JOIN notification n ON n.id = d.notification_id
                WHERE r.provider_message_id = ? AND d.channel = ? ORDER BY r.id LIMIT 1 FOR SHARE OF n""", providerMessageId, channel);
        if (found.isEmpty()) {
            return new ReceiptMatch(null, null, false, reason);
        }
        Map<String, Object> resend = found.get(0);
        long deliveryId = ((Number) resend.get("delivery_id")).longValue();
        String said = "resend " + resend.get("id") + ": " + (Boolean.TRUE.equals(resend.get("erased"))
                ? Masking.withoutAddresses(reason, "(erased)") : reason);
        String outcome = "RESEND_" + attemptOutcome;
        attempt(deliveryId, outcome.length() > 20 ? outcome.substring(0, 20) : outcome, null, said);
        return new ReceiptMatch(deliveryId, (String) resend.get("state"), false, said);
    }

    /**
     * The deliveries dispatch would have queued are recorded in a held state instead ({@link #HELD_STATES}: awaiting approval,
     * scheduled, held for an operator), not due, with the reason and an attempt each, so no sender takes them. A row
     * already there (the notification read again) stays as it is. Returns the rows added.
     */
    public int hold(List<Queued> deliveries, String heldState, String reason) {
        requireHeldState(heldState);
        return recordInstead(deliveries, heldState, reason, false, true).size();
    }

    /**
     * Not sent, decided at dispatch before anything was queued (a booking confirmation for an appointment that has started, a
     * reminder whose time had passed when it was scheduled): the deliveries dispatch would have queued are recorded SKIPPED,
     * final, with the reason and an attempt each. A row already there (the notification read again) stays as it is.
     * Returns the rows added.
     */
    public int skip(List<Queued> deliveries, String reason) {
        return recordInstead(deliveries, "SKIPPED", reason, false, false).size();
    }

    /**
     * Not sent, decided at dispatch: a notification already received made these deliveries pointless (catalog cancelled-by,
     * io.herald.schedule.SupersedingEvents): recorded CANCELLED, final, with the reason and an attempt each; a first-success
     * chain does not go on. A row already there stays as it is. Returns the rows added.
     */
    public int cancelAtDispatch(List<Queued> deliveries, String reason) {
        return recordInstead(deliveries, "CANCELLED", reason, false, false).size();
    }

    /**
     * Released (approved, its scheduled time came, sent now by an operator): the notification's deliveries held in
     * {@code heldState} are queued PENDING and due now, exactly as dispatch queues them (the channels' senders take them
     * from here), each with an attempt {@code outcome} (APPROVED, FIRED, RELEASED) saying why. Returns their channels. A held
     * delivery's alert (alerted_at: held for an operator, being late) is forgotten: should it fail once sent, that is a new
     * failure the team is told of.
     */
    public List<String> releaseHeld(long notificationId, String heldState, String outcome, String reason) {
        requireHeldState(heldState);
        return jdbc.queryForList("""
                WITH released AS (UPDATE delivery SET state = 'PENDING', reason = NULL, next_attempt_at = now(), alerted_at = NULL,
                                                      updated_at = now()
                                  WHERE notification_id = ? AND state = ? RETURNING id, channel),
                     noted AS (INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, ?, ? FROM released)
                SELECT channel FROM released""", String.class, notificationId, heldState, outcome, reason);
    }

    /**
     * Moved from one hold to another (approved inside the customer's quiet hours: from AWAITING_APPROVAL to SCHEDULED, see
     * io.herald.schedule.QuietHoursAfterApproval): the notification's deliveries of {@code channels} held in {@code fromState}
     * wait in {@code toState}, not due, with the reason and an attempt ({@code toState}) each. Returns their channels.
     */
    public List<String> moveHeld(long notificationId, String fromState, String toState, Collection<String> channels, String reason) {
        requireHeldState(fromState);
        requireHeldState(toState);
        return jdbc.query(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    WITH moved AS (UPDATE delivery SET state = ?, reason = ?, next_attempt_at = NULL, updated_at = now()
                                   WHERE notification_id = ? AND state = ? AND channel = ANY(?) RETURNING id, channel),
                         noted AS (INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, ?, ? FROM moved)
                    SELECT channel FROM moved""");
            statement.setString(1, toState);
            statement.setString(2, reason);
            statement.setLong(3, notificationId);
            statement.setString(4, fromState);
            statement.setArray(5, con.createArrayOf("varchar", channels.toArray()));
            statement.setString(6, toState);
            statement.setString(7, reason);
            return statement;
        }, (row, n) -> row.getString(1));
    }

    /**
     * Held again right before its send (its approved message changed, or was never approved: io.herald.approval.Approvals):
     * the delivery, if it is still waiting for a sender (PENDING, PARKED), is moved to {@code heldState}, not due, with the
     * reason and an attempt saying so; its first-success next channel stays for when it is released. False when it is no
     * longer waiting (settled, or claimed for a send meanwhile).
     */
    public boolean holdAgain(long notificationId, String channel, String heldState, String reason) {
        requireHeldState(heldState);
        return waitingEnds(notificationId, channel, heldState, reason);
    }

    /**
     * Ended while it waited for a sender (its approval was rejected or expired before its changed message could be approved
     * again): {@link #HELD_ENDINGS}, final, never sent, with the reason and an attempt. False when it was no longer waiting.
     */
    public boolean endWaiting(long notificationId, String channel, String state, String reason) {
        if (!HELD_ENDINGS.contains(state)) {
            throw new IllegalArgumentException("a waiting delivery ends " + HELD_ENDINGS + ", not " + state);
        }
        return waitingEnds(notificationId, channel, state, reason);
    }

    /** A delivery waiting for a sender moves to {@code state}, not due; its failure alert (alerted_at) is owed again. */
    private boolean waitingEnds(long notificationId, String channel, String state, String reason) {
        return jdbc.update("""
                WITH moved AS (UPDATE delivery SET state = ?, reason = ?, next_attempt_at = NULL, alerted_at = NULL, updated_at = now()
                               WHERE notification_id = ? AND channel = ? AND state NOT IN (%s) RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, ?, ? FROM moved""".formatted(SETTLED_LIST),
                state, reason, notificationId, channel, state, reason) == 1;
    }

    /**
     * Rejected, expired, cancelled or dismissed: the deliveries of these notifications held in {@code heldState} end
     * {@code state} ({@link #HELD_ENDINGS}), final, never sent, with the reason and an attempt each. Returns how many
     * deliveries it ended.
     */
    public int endHeld(Collection<Long> notificationIds, String heldState, String state, String reason) {
        requireHeldState(heldState);
        if (!HELD_ENDINGS.contains(state)) {
            throw new IllegalArgumentException("a held delivery ends " + HELD_ENDINGS + ", not " + state);
        }
        return jdbc.update(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    WITH ended AS (UPDATE delivery SET state = ?, reason = ?, next_attempt_at = NULL, updated_at = now()
                                   WHERE notification_id = ANY(?) AND state = ? RETURNING id)
                    INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, ?, ? FROM ended""");
            statement.setString(1, state);
            statement.setString(2, reason);
            statement.setArray(3, con.createArrayOf("bigint", notificationIds.toArray()));
            statement.setString(4, heldState);
            statement.setString(5, state);
            statement.setString(6, reason);
            return statement;
        });
    }

    /**
     * Deliveries of released notifications that have not gone out and are not going out right now (PENDING, RETRYING,
     * PARKED) end CANCELLED with the reason, never sent: a reminder that fired and waited for its provider while its
     * appointment was cancelled or moved. A delivery being sent (SENDING) is left to its outcome. Returns how many ended.
     */
    public int cancelUnsent(Collection<Long> notificationIds, String reason) {
        if (notificationIds.isEmpty()) {
            return 0;
        }
        return jdbc.update(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    WITH ended AS (UPDATE delivery SET state = 'CANCELLED', reason = ?, next_attempt_at = NULL, updated_at = now()
                                   WHERE notification_id = ANY(?) AND state IN ('PENDING', 'RETRYING', 'PARKED') RETURNING id)
                    INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, 'CANCELLED', ? FROM ended""");
            statement.setString(1, reason);
            statement.setArray(2, con.createArrayOf("bigint", notificationIds.toArray()));
            statement.setString(3, reason);
            return statement;
        });
    }

    /**
     * Withdrawn notifications (a reminder whose appointment was cancelled or moved): a first-success step whose next channel
     * was never queued (its sender stopped in between) no longer names one, so the stale sweep does not queue it
     * (unfollowedSteps). Returns how many chains it ended.
     */
    public int endCutChains(Collection<Long> notificationIds) {
        return jdbc.update("""
                UPDATE delivery d SET next_channel = NULL WHERE d.notification_id = ANY(CAST(? AS BIGINT[])) AND d.next_channel IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM delivery x WHERE x.notification_id = d.notification_id AND x.channel = d.next_channel)""",
                idArray(notificationIds));
    }

    /**
     * Customer digests (io.herald.digest): the deliveries dispatch would have queued are recorded DIGESTED instead, final:
     * another notification's message carries them, which the reason names. A row already there (the notification read
     * again) stays as it is. Returns the rows added.
     */
    public int carriedByDigest(List<Queued> deliveries, String reason) {
        return recordInstead(deliveries, "DIGESTED", reason, false, false).size();
    }

    /**
     * The late-message policy (io.herald.ops.LateMessages), at dispatch: the notification is already too late and its type's
     * policy is drop, so the deliveries dispatch would have queued are recorded EXPIRED at once (late_at set), never sent, with
     * the reason and an attempt each. A row already there stays as it is. Returns the channels it ended.
     */
    public List<String> expireBeforeQueued(List<Queued> deliveries, String reason) {
        return recordInstead(deliveries, "EXPIRED", reason, true, false);
    }

    /**
     * Dispatch's alternative to queueing: the deliveries it would have queued are inserted directly in {@code state} (held,
     * skipped, digested, expired), not due, with the reason, {@code late_at} when the late policy decided it, and an attempt
     * each with the state as its outcome. A held row keeps its first-success next channel for when it is released
     * ({@code released}); a row that ends here does not, as its chain ends with it. A row already there (the notification
     * read again) stays as it is. Returns the channels of the rows added.
     */
    private List<String> recordInstead(List<Queued> deliveries, String state, String reason, boolean late, boolean released) {
        if (deliveries.isEmpty()) {
            return List.of();
        }
        return jdbc.query(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    WITH added AS (INSERT INTO delivery (notification_id, channel, state, customer_id, reason, late_at, next_channel)
                                   SELECT q.notification_id, q.channel, ?, q.customer_id, ?, CASE WHEN ? THEN now() END, q.next_channel
                                   FROM unnest(?::bigint[], ?::varchar[], ?::varchar[], ?::varchar[]) WITH ORDINALITY
                                        AS q(notification_id, channel, customer_id, next_channel, n)
                                   ORDER BY q.n
                                   ON CONFLICT (notification_id, channel) DO NOTHING RETURNING id, channel),
                         noted AS (INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, ?, ? FROM added)
                    SELECT channel FROM added""");
            statement.setString(1, state);
            statement.setString(2, reason);
            statement.setBoolean(3, late);
            statement.setArray(4, con.createArrayOf("bigint", deliveries.stream().map(Queued::notificationId).toArray()));
            statement.setArray(5, con.createArrayOf("varchar", deliveries.stream().map(Queued::channel).toArray()));
            statement.setArray(6, con.createArrayOf("varchar", deliveries.stream().map(Queued::customerId).toArray()));
            statement.setArray(7, con.createArrayOf("varchar", deliveries.stream().map(q -> released ? q.nextChannel() : null).toArray()));
            statement.setString(8, state);
            statement.setString(9, reason);
            return statement;
        }, (row, n) -> row.getString(1));
    }

    /**
     * The late-message policy, just before a send or in the send-window sweep: a delivery still waiting to be sent (queued,
     * retrying, parked; not claimed by an attempt) that has become too late ends EXPIRED (policy drop) or waits HELD for an
     * operator (policy hold; io.herald.schedule.ScheduledSends owns the HELD notification), with late_at, the reason and an
     * attempt. False when it was no longer waiting (sent, settled or being sent meanwhile).
     */
    public boolean stopLate(long notificationId, String channel, String state, String reason) {
        if (!"EXPIRED".equals(state) && !"HELD".equals(state)) {
            throw new IllegalArgumentException("a late delivery is stopped EXPIRED or HELD, not " + state);
        }
        return jdbc.update("""
                WITH stopped AS (UPDATE delivery SET state = ?, reason = ?, late_at = now(), next_attempt_at = NULL, updated_at = now()
                                 WHERE notification_id = ? AND channel = ? AND state IN ('PENDING', 'RETRYING', 'PARKED')
                                   AND claim_token IS NULL RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, ?, ? FROM stopped""",
                state, reason, notificationId, channel, state, reason) == 1;
    }

    /**
     * A notification waiting SCHEDULED became late, and its type holds late messages for an operator: its deliveries waiting
     * SCHEDULED are HELD with it, late (late_at), with the reason and an attempt HELD each. Returns their channels.
     */
    public List<String> holdScheduledLate(long notificationId, String reason) {
        return jdbc.queryForList("""
                WITH held AS (UPDATE delivery SET state = 'HELD', reason = ?, late_at = now(), next_attempt_at = NULL, updated_at = now()
                              WHERE notification_id = ? AND state = 'SCHEDULED' RETURNING id, channel),
                     noted AS (INSERT INTO delivery_attempt (delivery_id, outcome, reason) SELECT id, 'HELD', ? FROM held)
                SELECT channel FROM held""", String.class, reason, notificationId, reason);
    }

    /** The notification's HELD deliveries were held because they were late (dispatch's hold creates them HELD): late_at. */
    public int markLate(long notificationId) {
        return jdbc.update("UPDATE delivery SET late_at = now() WHERE notification_id = ? AND state = 'HELD' AND late_at IS NULL", notificationId);
    }

    /** An attempt on each of the notification's deliveries held in {@code heldState}, saying what happened to them (e.g. MOVED). */
    public int noteHeld(long notificationId, String heldState, String outcome, String reason) {
        requireHeldState(heldState);
        return jdbc.update("""
                INSERT INTO delivery_attempt (delivery_id, outcome, reason)
                SELECT id, ?, ? FROM delivery WHERE notification_id = ? AND state = ?""", outcome, reason, notificationId, heldState);
    }

    private static void requireHeldState(String heldState) {
        if (!HELD_STATES.contains(heldState)) {
            throw new IllegalArgumentException("a delivery is held " + HELD_STATES + ", not " + heldState);
        }
    }

    /**
     * A claim token: unique, not secret (it only tells this claim from another). From ThreadLocalRandom rather than
     * UUID.randomUUID, whose SecureRandom is one lock and a read of /dev/urandom for every delivery's claim.
     */
    public static UUID newClaimToken() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        return new UUID(random.nextLong(), random.nextLong());
    }
}
