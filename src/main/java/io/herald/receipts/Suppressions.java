package io.herald.receipts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import io.herald.console.AuditTrail;
import io.herald.identity.ContactAddresses;
import io.herald.logging.Masking;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The suppression list (issue 13 point 2): addresses that must not be sent to again, because the
 * provider said they can never receive (hard bounce, unknown or landline number, unsubscribed) or the
 * customer complained. Owner of the suppression table. An address is kept as the SHA-256 of its
 * normalised form (lower-case email; phone without spaces) with a masked copy for people, so a
 * contact.updated with a new address finds no entry for it. Lifting keeps the row, with who and why.
 */
@Component
public class Suppressions {

    private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /** One entry, as operators see it (the address masked). */
    public record Suppression(long id, String channel, String addressMasked, String reason, Long receiptId, Instant since,
                              Instant liftedAt, String liftedBy, String liftComment) {
    }

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;

    public Suppressions(JdbcTemplate jdbc, AuditTrail audit) {
        this.jdbc = jdbc;
        this.audit = audit;
    }

    /** Puts the address on the list unless it is already there (the first reason and receipt stay). */
    public void add(String channel, String address, String reason, Long receiptId) {
        addHashed(channel, hash(channel, address), masked(channel, address), reason, receiptId);
    }

    /** {@link #add} for an address kept only as its key and masked copy (an early receipt's, see EarlyReceipts). */
    public void addHashed(String channel, String addressHash, String addressMasked, String reason, Long receiptId) {
        jdbc.update("""
                INSERT INTO suppression (channel, address_hash, address_masked, reason, receipt_id) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (channel, address_hash) WHERE lifted_at IS NULL DO NOTHING""",
                channel, addressHash, addressMasked, reason, receiptId);
    }

    /** Why this address is not to be sent to (null: it may be): "address … is suppressed since …: reason". */
    public String reasonFor(String channel, String address) {
        if (address == null || address.isBlank()) {
            return null;
        }
        return jdbc.query("SELECT address_masked, since, reason FROM suppression WHERE channel = ? AND address_hash = ? AND lifted_at IS NULL",
                (row, n) -> reason(row.getString(1), row.getTimestamp(2), row.getString(3)),
                channel, hash(channel, address)).stream().findFirst().orElse(null);
    }

    /**
     * {@link #reasonFor} for a batch of addresses of one channel in one query (the senders check each claimed batch at
     * once): the reason per suppressed address; an address not in the map may be sent to.
     */
    public Map<String, String> reasonsFor(String channel, Collection<String> addresses) {
        Map<String, String> byHash = new HashMap<>();
        for (String address : addresses) {
            if (address != null && !address.isBlank()) {
                byHash.put(hash(channel, address), address);
            }
        }
        Map<String, String> reasons = new HashMap<>();
        if (byHash.isEmpty()) {
            return reasons;
        }
        jdbc.query("SELECT address_hash, address_masked, since, reason FROM suppression WHERE channel = ? AND address_hash = ANY(?)"
                        + " AND lifted_at IS NULL",
                ps -> {
                    ps.setString(1, channel);
                    ps.setArray(2, ps.getConnection().createArrayOf("varchar", byHash.keySet().toArray()));
                },
                row -> {
                    reasons.put(byHash.get(row.getString(1)), reason(row.getString(2), row.getTimestamp(3), row.getString(4)));
                });
        return reasons;
    }

    private static String reason(String masked, java.sql.Timestamp since, String reason) {
        return "address " + masked + " is suppressed since " + SINCE.format(since.toInstant()) + ": " + reason
                + " (an operator can lift it under Suppressions)";
    }

    /** Active entries first, newest first; at most {@code limit}. */
    public List<Suppression> list(boolean includeLifted, int limit) {
        return jdbc.query("SELECT * FROM suppression" + (includeLifted ? "" : " WHERE lifted_at IS NULL")
                + " ORDER BY lifted_at IS NOT NULL, since DESC, id DESC LIMIT ?", Suppressions::row, limit);
    }

    public Optional<Suppression> find(long id) {
        return jdbc.query("SELECT * FROM suppression WHERE id = ?", Suppressions::row, id).stream().findFirst();
    }

    private static Suppression row(java.sql.ResultSet row, int n) throws java.sql.SQLException {
        return new Suppression(row.getLong("id"), row.getString("channel"), row.getString("address_masked"), row.getString("reason"),
                row.getObject("receipt_id", Long.class), row.getTimestamp("since").toInstant(),
                row.getTimestamp("lifted_at") == null ? null : row.getTimestamp("lifted_at").toInstant(),
                row.getString("lifted_by"), Masking.mask(row.getString("lift_comment")));   // the address is kept masked only: so is a comment naming it
    }

    /** Lifts an active entry with who and why, audited in operator_action; false when it is not active (lifted already, or no such id). */
    public boolean lift(long id, String actor, String comment) {
        Instant at = Instant.now();
        if (jdbc.update("UPDATE suppression SET lifted_at = now(), lifted_by = ?, lift_comment = ? WHERE id = ? AND lifted_at IS NULL",
                actor, comment, id) != 1) {
            return false;
        }
        Suppression lifted = find(id).orElseThrow();
        audit.record(at, actor, "LIFT", "suppression", id, null, comment,
                "lifted: " + lifted.channel() + " " + lifted.addressMasked() + " may be sent to again");
        return true;
    }

    /** Lifts every active entry for this address (a customer's START by SMS), each audited; how many were lifted. */
    public int liftAll(String channel, String address, String actor, String comment) {
        int lifted = 0;
        for (Long id : jdbc.queryForList("SELECT id FROM suppression WHERE channel = ? AND address_hash = ? AND lifted_at IS NULL",
                Long.class, channel, hash(channel, address))) {
            lifted += lift(id, actor, comment) ? 1 : 0;
        }
        return lifted;
    }

    /** The address as it is sent (an email's domain in ASCII, a number without spaces, dots or parentheses), email lower-cased. */
    static String normalised(String channel, String address) {
        String trimmed = address.trim();
        if ("email".equals(channel)) {
            String sendable = ContactAddresses.sendableEmail(trimmed);
            return (sendable == null ? trimmed : sendable).toLowerCase(Locale.ROOT);
        }
        return ContactAddresses.dialable(trimmed);
    }

    /** The key a suppression is kept under: SHA-256 of the address as it is normalised for the channel (also the erasure's, to find them). */
    public static String hash(String channel, String address) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(normalised(channel, address).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    static String masked(String channel, String address) {
        String value = normalised(channel, address);
        return "email".equals(channel) ? Masking.email(value) : Masking.phone(value);
    }
}
