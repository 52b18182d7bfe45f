package io.herald.identity;

import java.sql.Array;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import io.herald.ledger.StoredText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Owner of the customer_link table (issue 13 point 4): which customer a source system's id names.
 * An event resolves through its source's link first; without one, through the customer id it carries
 * (Herald's customer ids are Stripe ids, and a helpdesk may stamp the ticket with one); without either,
 * it is quarantined with a reason naming the system and the id, never matched by email. Links are
 * written by contact.updated (the CRM's account and the ids it lists), by an operator from a
 * quarantined event (audited by the caller) and by the V28 seeds.
 * <p>
 * A link keeps the time of what it says (changed_at, V47): the updatedAt of the newest contact change that wrote or
 * confirmed it, or the moment an operator linked it. A contact change moves a link only when it is at least as new, so a
 * late, older change never undoes a newer one nor an operator's later decision; an operator's link always applies (it is
 * the operator's explicit choice, audited). Seeded links and those written before V47 have no time: any contact change
 * that lists the id may move them.
 */
@Component
public class CustomerLinks {

    private static final Logger log = LoggerFactory.getLogger(CustomerLinks.class);

    /** What an event names its customer by: a source system's id and/or a Herald customer id (either may be null). */
    public record Claim(ExternalId link, String customerId) {
    }

    /** One link as the customer view shows it. */
    public record Link(String system, String externalId, String customerId, String origin, Instant linkedAt) {
    }

    private final JdbcTemplate jdbc;

    public CustomerLinks(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * The customer each claim resolves to (null: none), in the claims' order, in one statement for a whole batch:
     * the link when there is one, else the claimed customer id when it is in the directory.
     */
    public List<String> resolveAll(List<Claim> claims) {
        if (claims.isEmpty()) {
            return List.of();
        }
        String[] systems = new String[claims.size()];
        String[] externalIds = new String[claims.size()];
        String[] customerIds = new String[claims.size()];
        for (int i = 0; i < claims.size(); i++) {
            Claim claim = claims.get(i);
            systems[i] = claim.link() == null ? null : claim.link().system();
            externalIds[i] = claim.link() == null ? null : claim.link().externalId();
            customerIds[i] = claim.customerId();
        }
        String[] resolved = new String[claims.size()];
        jdbc.query(con -> {
            var statement = con.prepareStatement("""
                    SELECT q.n, COALESCE(l.customer_id, c.customer_id) AS customer_id
                    FROM unnest(?::varchar[], ?::varchar[], ?::varchar[]) WITH ORDINALITY AS q(system, external_id, customer_id, n)
                    LEFT JOIN customer_link l ON l.system = q.system AND l.external_id = q.external_id
                    LEFT JOIN customer c ON c.customer_id = q.customer_id""");
            Array[] arrays = {con.createArrayOf("varchar", systems), con.createArrayOf("varchar", externalIds),
                    con.createArrayOf("varchar", customerIds)};
            for (int i = 0; i < arrays.length; i++) {
                statement.setArray(i + 1, arrays[i]);
            }
            return statement;
        }, row -> {
            resolved[(int) row.getLong("n") - 1] = row.getString("customer_id");
        });
        return Arrays.asList(resolved);
    }

    /**
     * {@link #resolveAll}, each resolved customer's directory row then held (FOR KEY SHARE) until the caller's transaction
     * ends: an erasure, which deletes the row, waits for an admission in flight, and its clean-up then sees what was admitted;
     * an admission after the erasure's delete waits for it and finds the customer gone (null, quarantined as erased). Before,
     * an event admitted in that moment kept its payload and rendered message after the erasure (ErasureEdgesTest). The lock
     * does not stop a contact change (a non-key update) nor another admission.
     */
    public List<String> resolveAllHeld(List<Claim> claims) {
        List<String> resolved = resolveAll(claims);
        String[] ids = resolved.stream().filter(java.util.Objects::nonNull).distinct().sorted().toArray(String[]::new);
        if (ids.length == 0) {
            return resolved;
        }
        java.util.Set<String> held = new java.util.HashSet<>(jdbc.queryForList(
                "SELECT customer_id FROM customer WHERE customer_id = ANY(?) ORDER BY customer_id FOR KEY SHARE", String.class, (Object) ids));
        return resolved.stream().map(id -> id != null && held.contains(id) ? id : null).toList();
    }

    /** One event's customer, or UnknownCustomer with the reason (a re-drive, outside a batch). */
    public String resolve(String source, String sourceEventId, Claim claim) {
        String customerId = resolveAllHeld(List.of(claim)).get(0);
        if (customerId == null) {
            throw unknown(source, sourceEventId, claim);
        }
        return customerId;
    }

    /**
     * Why an event's customer is unknown, for the operator who can fix it:
     * "Zendesk user 9000000123456 is not linked to any customer: link it from the event page in the console (support event …)".
     */
    public static UnknownCustomer unknown(String source, String sourceEventId, Claim claim) {
        if (claim.link() == null) {
            return CustomerDirectory.unknown(source, sourceEventId, claim.customerId());
        }
        String event = source + " event " + sourceEventId;
        String carried = claim.customerId() == null ? event
                : event + " names customer " + CustomerDirectory.shown(claim.customerId()) + ", who is not in Herald's customer directory";
        return new UnknownCustomer(claim.link().describe() + " is not linked to any customer: link it from the event page in the console"
                + " (" + carried + ")");
    }

    /** Why an event whose only customer reference is an unusable source id (empty, overlong, control characters) is held. */
    public static UnknownCustomer unusable(String source, String sourceEventId, JsonNode link) {
        String system = link.path("system").asText("");
        String named = ExternalId.known(system) ? ExternalId.SYSTEMS.get(system) + " id" : "source system's id";
        return new UnknownCustomer(source + " event " + sourceEventId + " names its customer only by a " + named
                + " that cannot be used (empty, longer than 200 characters or with control characters) and carries no customer id;"
                + " fix the event at its source, then re-drive");
    }

    /** The link a mapping emitted (customerLink: {system, externalId}), or null when there is none or it is unusable. */
    public static ExternalId linkOf(JsonNode mapped) {
        JsonNode link = mapped.path("customerLink");
        return usable(link.path("system").asText(null), link.path("externalId"));
    }

    /** A system's id as text (Zendesk sends numbers too), or null when the system is not linked or the id unusable. */
    static ExternalId usable(String system, JsonNode id) {
        String externalId = id != null && (id.isTextual() || id.isIntegralNumber()) ? id.asText().strip() : null;
        if (system == null || !ExternalId.known(system) || externalId == null || externalId.isEmpty()
                || externalId.length() > 200 || StoredText.unsafe(externalId)) {
            return null;
        }
        return new ExternalId(system, externalId);
    }

    /**
     * An operator links the id to the customer (moving it if it named another); returns the customer it named before, if any.
     * The link keeps the moment it was made (changed_at): a CRM contact change older than that does not move it.
     */
    public Optional<String> link(ExternalId id, String customerId, String origin) {
        Optional<String> before = find(id).map(Link::customerId);
        jdbc.update("""
                INSERT INTO customer_link (system, external_id, customer_id, origin, changed_at) VALUES (?, ?, ?, ?, now())
                ON CONFLICT (system, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, origin = EXCLUDED.origin,
                  linked_at = now(), changed_at = now()
                WHERE customer_link.customer_id <> EXCLUDED.customer_id""",
                id.system(), id.externalId(), customerId, StoredText.truncate(origin, 200));
        return before.filter(previous -> !previous.equals(customerId));
    }

    /**
     * A contact.updated's ids (contactUpdate.externalIds: {"crm": "0015g…", "zendesk": "9000000123456"}) linked to its
     * customer, as of the change's time (its updatedAt): new ids are added, an id that named someone else moves to them,
     * and a link already naming them keeps its origin and takes the newer time. A link whose time is newer than the change
     * (a later contact change, or an operator's link made after it) is not moved: the returned reasons say which, for the
     * operator. Unknown systems and unusable ids are left out, with a log line; the directory change itself stands.
     * Ids are taken in a fixed order, so two changes listing the same ids never wait for each other's links in a cycle.
     */
    public List<String> maintain(String customerId, Instant changedAt, JsonNode externalIds, String origin) {
        if (externalIds == null || !externalIds.isObject()) {
            return List.of();
        }
        List<String> skipped = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        Map<String, JsonNode> ids = new TreeMap<>();
        externalIds.fields().forEachRemaining(entry -> ids.put(entry.getKey(), entry.getValue()));
        for (Map.Entry<String, JsonNode> entry : ids.entrySet()) {
            JsonNode value = entry.getValue();
            if (value.isNull()) {
                continue;
            }
            ExternalId id = usable(entry.getKey(), value);
            if (id == null) {
                skipped.add(entry.getKey());
                continue;
            }
            linkAsOf(id, customerId, changedAt, origin).ifPresent(refused::add);
        }
        if (!skipped.isEmpty()) {
            log.warn("{}: ids of unknown systems or unusable were not linked to {}: {}", origin, customerId, skipped);
        }
        return refused;
    }

    /** One id linked by a contact change of this time, unless its link is newer: then why it stays where it is. */
    private Optional<String> linkAsOf(ExternalId id, String customerId, Instant changedAt, String origin) {
        Optional<Link> before = find(id);
        int written = jdbc.update("""
                INSERT INTO customer_link (system, external_id, customer_id, origin, changed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (system, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id,
                  origin = CASE WHEN customer_link.customer_id = EXCLUDED.customer_id THEN customer_link.origin ELSE EXCLUDED.origin END,
                  linked_at = CASE WHEN customer_link.customer_id = EXCLUDED.customer_id THEN customer_link.linked_at ELSE now() END,
                  changed_at = EXCLUDED.changed_at
                WHERE customer_link.changed_at IS NULL OR customer_link.changed_at <= EXCLUDED.changed_at""",
                id.system(), id.externalId(), customerId, StoredText.truncate(origin, 200), Timestamp.from(changedAt));
        if (written == 1) {
            before.filter(previous -> !previous.customerId().equals(customerId)).ifPresent(previous ->
                    log.info("{} moved from customer {} to {} ({})", id.describe(), previous.customerId(), customerId, origin));
            return Optional.empty();
        }
        // Not written: the link is newer than this change (the statement locked it; read as it stands).
        return jdbc.query("SELECT customer_id, origin, changed_at FROM customer_link WHERE system = ? AND external_id = ?",
                (row, n) -> new Held(row.getString("customer_id"), row.getString("origin"), row.getTimestamp("changed_at").toInstant()),
                id.system(), id.externalId()).stream().findFirst().filter(held -> !held.customerId().equals(customerId)).map(held -> {
                    String reason = origin + " (changed " + changedAt + ") did not move " + id.describe() + " to customer " + customerId
                            + ": its link to customer " + held.customerId() + " is newer (" + held.origin() + ", as of "
                            + held.changedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "), and an older change never moves a link. If " + customerId + " is right,"
                            + " correct the contact in the CRM so that it sends a newer change";
                    log.info("{}", reason);
                    return reason;
                });
    }

    /** A link newer than a contact change: whom it names, who wrote it and as of when. */
    private record Held(String customerId, String origin, Instant changedAt) {
    }

    public Optional<Link> find(ExternalId id) {
        return jdbc.query("SELECT * FROM customer_link WHERE system = ? AND external_id = ?", (row, n) -> of(row),
                id.system(), id.externalId()).stream().findFirst();
    }

    public List<Link> of(String customerId) {
        return jdbc.query("SELECT * FROM customer_link WHERE customer_id = ? ORDER BY system, external_id", (row, n) -> of(row), customerId);
    }

    private static Link of(java.sql.ResultSet row) throws java.sql.SQLException {
        return new Link(row.getString("system"), row.getString("external_id"), row.getString("customer_id"),
                row.getString("origin"), row.getTimestamp("linked_at").toInstant());
    }
}
