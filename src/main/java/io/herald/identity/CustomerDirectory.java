package io.herald.identity;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.logging.Masking;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Herald's customer directory in PostgreSQL, looked up by the stable customer id the source sends. */
@Component
public class CustomerDirectory {

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;

    public CustomerDirectory(JdbcTemplate jdbc, ObjectMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public Optional<Customer> find(String customerId) {
        return jdbc.query("SELECT * FROM customer WHERE customer_id = ?", this::toCustomer, customerId).stream().findFirst();
    }

    /** The customers with these ids that are in the directory, by id, in one query (a batch's events). */
    public Map<String, Customer> findAll(Collection<String> customerIds) {
        if (customerIds.isEmpty()) {
            return Map.of();
        }
        Map<String, Customer> found = new HashMap<>();
        jdbc.query(con -> {
            var statement = con.prepareStatement("SELECT * FROM customer WHERE customer_id = ANY(?)");
            statement.setArray(1, con.createArrayOf("varchar", customerIds.toArray()));
            return statement;
        }, (row, n) -> toCustomer(row, n)).forEach(customer -> found.put(customer.customerId(), customer));
        return found;
    }

    /** Why an event naming this customer cannot be admitted: the customer is not in the directory. */
    public static UnknownCustomer unknown(String source, String sourceEventId, String customerId) {
        return new UnknownCustomer(source + " event " + sourceEventId + " names customer " + shown(customerId)
                + ", who is not in Herald's customer directory");
    }

    /**
     * A customer id as a reason shows it: as it is, unless spaces around it would hide why it did not match
     * (ids are matched exactly, never trimmed or guessed): "' cus_1 ' (with spaces around it)".
     */
    static String shown(String customerId) {
        return customerId == null || customerId.equals(withoutSpacesAround(customerId)) ? customerId
                : "'" + customerId + "' (with spaces around it; customer ids are matched exactly, correct it at the source)";
    }

    /**
     * The id without the spaces around it, the no-break and narrow ones (U+00A0, U+2007, U+202F: a field pasted from a web
     * page or a spreadsheet) as well as ordinary ones, which String.strip leaves: an id that differs from it has spaces around
     * it, and would be a customer of its own.
     */
    public static String withoutSpacesAround(String customerId) {
        int start = 0;
        int end = customerId.length();
        while (start < end && space(customerId.charAt(start))) {
            start++;
        }
        while (end > start && space(customerId.charAt(end - 1))) {
            end--;
        }
        return customerId.substring(start, end);
    }

    private static boolean space(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    /** The customer for an event, or UnknownCustomer with a reason an operator can act on. */
    public Customer resolve(String source, String sourceEventId, String customerId) {
        return find(customerId).orElseThrow(() -> notAdmitted(source, sourceEventId, customerId));
    }

    /**
     * Why an event naming a customer not in the directory cannot be admitted: the customer was erased (issue 16, the
     * customer_erasure tombstone: when, by whom, their comment), or is simply unknown.
     */
    public UnknownCustomer notAdmitted(String source, String sourceEventId, String customerId) {
        return erased(source, sourceEventId, customerId).orElseGet(() -> unknown(source, sourceEventId, customerId));
    }

    /** Why an event naming this customer cannot be admitted, if the customer was erased (the customer_erasure tombstone). */
    public Optional<UnknownCustomer> erased(String source, String sourceEventId, String customerId) {
        return customerId == null ? Optional.empty() : erasure(customerId).map(erased -> new ErasedCustomer(source + " event "
                + sourceEventId + " names customer " + customerId + ", who was erased from Herald on " + erased));
    }

    /** When, by whom and why the customer was erased, as erasure() says it, if they were (the customer_erasure tombstone). */
    public Optional<String> erasedOn(String customerId) {
        return customerId == null ? Optional.empty() : erasure(customerId);
    }

    /** "2026-12-02 by admin (comment: ...); Herald no longer notifies them", if the customer was erased. */
    private Optional<String> erasure(String customerId) {
        return jdbc.query("SELECT erased_at, requested_by, comment FROM customer_erasure WHERE customer_id = ?",
                (row, n) -> row.getTimestamp("erased_at").toInstant().atZone(java.time.ZoneOffset.UTC).toLocalDate() + " by "
                        + row.getString("requested_by") + " (comment: \"" + row.getString("comment") + "\"); Herald no longer"
                        + " notifies or records this customer: dismiss the event", customerId).stream().findFirst();
    }

    /**
     * The customer for an event that carries only an email: exactly one directory entry with that
     * email (case-insensitive), otherwise UnknownCustomer saying none or how many. Never guessed.
     * Only with herald.identity.match-by-email (EmailOnlyEvents decides).
     */
    public Customer resolveByEmail(String source, String sourceEventId, String email) {
        List<Customer> matches = jdbc.query("SELECT * FROM customer WHERE lower(email) = lower(?) ORDER BY customer_id LIMIT 3",
                this::toCustomer, email);
        String event = source + " event " + sourceEventId + EmailOnlyEvents.ONLY_THE_EMAIL + Masking.email(email);
        if (matches.isEmpty()) {
            throw new UnknownCustomer(event + ", and no customer in Herald's directory has that email");
        }
        if (matches.size() > 1) {
            String count = matches.size() > 2 ? "3 or more customers" : "2 customers";
            throw new UnknownCustomer(event + ", which is ambiguous: " + count + " in Herald's directory share it ("
                    + matches.get(0).customerId() + ", " + matches.get(1).customerId() + (matches.size() > 2 ? ", ..." : "")
                    + "); not guessed. Assign it to the right customer from the event page in the console, or fix the directory and re-drive it");
        }
        return matches.get(0);
    }

    /**
     * The customers whose phone is this number, compared as E.164 digits (spaces, dashes, brackets and the + ignored, a 00
     * prefix dropped), at most {@code limit}, by id: an inbound SMS's sender is one customer only when exactly one is found.
     */
    public List<Customer> findByPhone(String phone, int limit) {
        String digits = phone == null ? "" : phone.replaceAll("[^0-9]", "").replaceFirst("^00", "");
        if (digits.isEmpty()) {
            return List.of();
        }
        return jdbc.query("SELECT * FROM customer WHERE regexp_replace(regexp_replace(phone, '[^0-9]', '', 'g'), '^00', '') = ?"
                + " ORDER BY customer_id LIMIT ?", this::toCustomer, digits, limit);
    }

    /**
     * Applies a CRM contact change to the directory: creates the customer, or changes the fields the change carries
     * (ContactUpdate.given; a field it leaves out keeps its value: an update that does not mention preferences never undoes
     * an opt-out). A change older than the one already applied is skipped (returns false), so an out-of-order or replayed
     * contact.updated never rolls a customer back. An erased customer is refused (UnknownCustomer, the erasure as its
     * reason): call it under the customer's lock (ContactChanges), which an erasure takes too, so the tombstone read here is
     * never one an erasure is about to write.
     */
    public boolean apply(ContactUpdate update) {
        Optional<String> erased = erasure(update.customerId());
        if (erased.isPresent()) {   // an erased customer is not re-created by a later contact change
            throw new ErasedCustomer("contact update for customer " + update.customerId() + " refused: the customer was erased from Herald on "
                    + erased.get());
        }
        try {
            return jdbc.update("""
                    INSERT INTO customer (customer_id, display_name, first_name, email, phone, push_tokens, locale, time_zone, preferences,
                                          updated_at)
                    VALUES (?, ?, ?, ?, ?, CAST(? AS JSONB), COALESCE(?, 'en'), COALESCE(?, 'UTC'), CAST(? AS JSONB), ?)
                    ON CONFLICT (customer_id) DO UPDATE SET
                      former_names = array_remove(customer.former_names || ARRAY[
                        CASE WHEN ? AND customer.display_name IS DISTINCT FROM EXCLUDED.display_name
                             AND NOT customer.display_name = ANY(customer.former_names) THEN customer.display_name END,
                        CASE WHEN ? AND customer.first_name IS DISTINCT FROM EXCLUDED.first_name
                             AND NOT customer.first_name = ANY(customer.former_names) THEN customer.first_name END], NULL),
                      display_name = CASE WHEN ? THEN EXCLUDED.display_name ELSE customer.display_name END,
                      first_name = CASE WHEN ? THEN EXCLUDED.first_name ELSE customer.first_name END,
                      email = CASE WHEN ? THEN EXCLUDED.email ELSE customer.email END,
                      phone = CASE WHEN ? THEN EXCLUDED.phone ELSE customer.phone END,
                      push_tokens = CASE WHEN ? THEN EXCLUDED.push_tokens ELSE customer.push_tokens END,
                      locale = CASE WHEN ? THEN EXCLUDED.locale ELSE customer.locale END,
                      time_zone = CASE WHEN ? THEN EXCLUDED.time_zone ELSE customer.time_zone END,
                      preferences = CASE WHEN ? THEN EXCLUDED.preferences ELSE customer.preferences END,
                      updated_at = EXCLUDED.updated_at
                    WHERE customer.updated_at <= EXCLUDED.updated_at""",
                    update.customerId(), update.displayName(), update.firstName(), update.email(), update.phone(),
                    json.writeValueAsString(update.pushTokens() == null ? List.of() : update.pushTokens()),
                    update.locale(), update.timeZone(),
                    json.writeValueAsString(update.preferences() == null ? Map.of() : update.preferences()),
                    java.sql.Timestamp.from(update.updatedAt()),
                    update.gives("displayName"), update.gives("firstName"),   // the names they replace, kept (CustomerNames)
                    update.gives("displayName"), update.gives("firstName"), update.gives("email"), update.gives("phone"), update.gives("pushTokens"),
                    update.gives("locale"), update.gives("timeZone"), update.gives("preferences")) == 1;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("contact update for " + update.customerId() + " cannot be written", e);
        }
    }

    /** The time of the contact change the customer's entry holds (updated_at), if the customer is in the directory. */
    public Optional<java.time.Instant> updatedAt(String customerId) {
        return jdbc.query("SELECT updated_at FROM customer WHERE customer_id = ?", (row, n) -> row.getTimestamp("updated_at").toInstant(),
                customerId).stream().findFirst();
    }

    /**
     * Removes one push token the push provider no longer accepts from the customer's entry, written with or without the
     * "fcm:" prefix; the other tokens stay, in their order. One statement; false when the entry does not hold it (any more).
     * updated_at is left alone: the CRM's next contact.updated that lists push tokens still replaces them.
     */
    public boolean removePushToken(String customerId, String token) {
        String bare = token.replaceFirst("^fcm:", "");
        String prefixed = "fcm:" + bare;
        return jdbc.update("""
                UPDATE customer SET push_tokens = (
                  SELECT coalesce(jsonb_agg(t.value ORDER BY t.ordinality), '[]'::jsonb)
                  FROM jsonb_array_elements(push_tokens) WITH ORDINALITY AS t(value, ordinality)
                  WHERE t.value NOT IN (to_jsonb(?::text), to_jsonb(?::text)))
                WHERE customer_id = ? AND (push_tokens @> jsonb_build_array(?::text) OR push_tokens @> jsonb_build_array(?::text))""",
                bare, prefixed, customerId, bare, prefixed) == 1;
    }

    /** A directory entry from a row with the customer table's columns (also for queries that join it). */
    public Customer toCustomer(ResultSet row, int rowNum) throws SQLException {
        try {
            return new Customer(
                    row.getString("customer_id"),
                    row.getString("display_name"),
                    row.getString("email"),
                    row.getString("phone"),
                    json.readValue(row.getString("push_tokens"), new TypeReference<List<String>>() { }),
                    row.getString("locale"),
                    row.getString("time_zone"),
                    json.readValue(row.getString("preferences"), new TypeReference<Map<String, List<String>>>() { }),
                    row.getString("first_name"));
        } catch (JsonProcessingException e) {
            throw new SQLException("customer " + row.getString("customer_id") + " has unreadable JSON columns", e);
        }
    }
}
