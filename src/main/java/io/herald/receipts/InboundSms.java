package io.herald.receipts;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import io.herald.config.SmsInboundSettings;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.ingest.InboundRejected;
import io.herald.logging.Masking;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Messages customers text to Herald's number (POST /webhooks/sms/inbound, Twilio-style, verified like the status
 * callbacks), owner of the inbound_sms table. In any case and without punctuation: STOP, STOPALL or UNSUBSCRIBE as the
 * first word ("Stop sending me these") switch the customer's SMS consent off, and so do CANCEL, END, QUIT, REVOKE or OPTOUT as the whole
 * message ("Cancel." but not "Cancel my appointment", an ordinary reply to a reminder); START, UNSTOP or YES as the whole
 * message switch it back on and HELP or INFO is answered with herald.sms.inbound.help-text, as Twilio reads them
 * (a sentence starting "Yes" or "Start" is a reply, not a keyword); anything else is kept and changes nothing. A message the provider classified itself
 * (Twilio's OptOutType STOP, START or HELP, for keywords configured in its Advanced Opt-Out) counts as that keyword; Twilio
 * has answered it with the message configured there, so Herald does not answer such a HELP a second time. The sender is matched by number to exactly
 * one customer of the directory for the history (none or several: no customer is named, never guessed); STOP and START act on
 * the number itself either way, since whoever holds it said so: a STOP from a number no customer has, or several share,
 * still stops every SMS to it.
 *
 * <p>Consent off is a suppression of the customer's number (the source: an OPT_OUT receipt), so the SMS senders'
 * existing check skips their messages with "customer opted out of SMS by replying STOP on ..."; consent on lifts it,
 * audited as the customer's own action. Every message, and so every consent change, is a row of inbound_sms: the
 * customer's history, shown in their notifications' timelines.
 */
@Component
public class InboundSms {

    private static final Logger log = LoggerFactory.getLogger(InboundSms.class);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

    /** Twilio's default opt-out keywords for long codes (REVOKE and OPTOUT since the 2025 FCC consent rules). */
    static final Set<String> STOP_WORDS = Set.of("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT");
    /** Stop words that count as the first word of a sentence; the others only as the whole message. */
    static final Set<String> STOP_FIRST_WORDS = Set.of("STOP", "STOPALL", "UNSUBSCRIBE");
    static final Set<String> START_WORDS = Set.of("START", "UNSTOP", "YES");
    static final String HELP = "HELP";
    static final Set<String> HELP_WORDS = Set.of(HELP, "INFO");
    /** Who lifts a suppression when the customer texts START (the audit trail's actor). */
    static final String CUSTOMER_ACTOR = "customer by SMS";

    /** One inbound message as the history shows it. */
    public record Message(long id, Instant receivedAt, String fromMasked, String customerId, String keyword, String action,
                          String outcome, String reason) {
    }

    private final JdbcTemplate jdbc;
    private final CustomerDirectory directory;
    private final DeliveryReceipts receipts;
    private final Suppressions suppressions;
    private final TransactionTemplate tx;
    private final String helpText;

    public InboundSms(JdbcTemplate jdbc, CustomerDirectory directory, DeliveryReceipts receipts, Suppressions suppressions,
                      TransactionTemplate tx, SmsInboundSettings settings) {
        this.jdbc = jdbc;
        this.directory = directory;
        this.receipts = receipts;
        this.suppressions = suppressions;
        this.tx = tx;
        this.helpText = settings.helpText().strip();
    }

    /** Acts on the verified message (its form left by SmsStatusCallbacks.verify) and answers TwiML: the help text for HELP. */
    public void answer(Exchange exchange) {
        @SuppressWarnings("unchecked")
        Map<String, List<String>> form = exchange.getProperty(SmsStatusCallbacks.FORM, Map.class);
        String from = SmsStatusCallbacks.first(form, "From", null);
        if (from == null || from.isBlank()) {
            throw new InboundRejected(400, "an inbound message needs From (the sender's number)");
        }
        String sid = SmsStatusCallbacks.first(form, "MessageSid", SmsStatusCallbacks.first(form, "SmsSid", null));
        String body = SmsStatusCallbacks.first(form, "Body", "");
        String keyword = keyword(body);
        // A keyword configured at the provider (Twilio Advanced Opt-Out), classified by it: read as Herald reads a keyword
        // ("Stop." is STOP), never kept as sent. Twilio has answered it with the message configured there, so a HELP it
        // classified gets no second answer from Herald, also when it is a word Herald knows itself (Twilio's default HELP).
        String classified = keyword(SmsStatusCallbacks.first(form, "OptOutType", ""));
        boolean providerAnswered = classified != null;
        if (keyword == null) {
            keyword = classified;
        }
        String word = keyword;
        tx.executeWithoutResult(status -> record(from.strip(), sid == null || sid.isBlank() ? null : text(sid.strip(), 64), word, body,
                providerAnswered));
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/xml; charset=UTF-8");
        exchange.getMessage().setBody("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + (HELP.equals(keyword) && !providerAnswered
                ? "<Response><Message>" + xml(helpText) + "</Message></Response>" : "<Response/>"));
    }

    /** The customer's messages and consent changes, newest first (at most {@code limit}). */
    public List<Message> history(String customerId, int limit) {
        return jdbc.query("SELECT * FROM inbound_sms WHERE customer_id = ? ORDER BY received_at DESC, id DESC LIMIT ?",
                InboundSms::row, customerId, limit);
    }

    /**
     * The keyword, upper-case, without punctuation ("Stop." is STOP, "info?" is HELP): a stop word of {@link #STOP_FIRST_WORDS}
     * as the first word, any other keyword only as the whole message; null when there is none.
     */
    static String keyword(String body) {
        String[] words = body == null ? new String[0] : body.strip().split("\\s+", 2);
        String first = words.length == 0 ? "" : words[0].replaceAll("[^\\p{L}]", "").toUpperCase(Locale.ROOT);
        boolean whole = words.length < 2 || words[1].replaceAll("[^\\p{L}\\p{N}]", "").isEmpty();
        if (STOP_FIRST_WORDS.contains(first) || (whole && (STOP_WORDS.contains(first) || START_WORDS.contains(first)))) {
            return first;
        }
        return whole && HELP_WORDS.contains(first) ? HELP : null;
    }

    private void record(String from, String sid, String keyword, String body, boolean providerAnswered) {
        String action = keyword == null ? "NONE" : STOP_WORDS.contains(keyword) ? "OPT_OUT" : START_WORDS.contains(keyword) ? "OPT_IN" : "HELP";
        String masked = Masking.phone(from);
        Long id = jdbc.query("""
                INSERT INTO inbound_sms (message_sid, from_masked, keyword, action, outcome, reason, excerpt)
                VALUES (?, ?, ?, ?, 'RECORDED', 'being recorded', ?)
                ON CONFLICT (message_sid) WHERE message_sid IS NOT NULL DO NOTHING RETURNING id""",
                (row, n) -> row.getLong(1), sid, text(masked, 40), keyword, action, text(Masking.mask(body), 200)).stream().findFirst().orElse(null);
        if (id == null) {
            log.info("Inbound SMS {} from {} was recorded before (a provider retry): not acted on again", sid, masked);
            return;
        }
        List<Customer> matches = directory.findByPhone(from, 3);
        Customer customer = matches.size() == 1 ? matches.get(0) : null;
        // STOP and START are the number's: whoever holds it said so, whether the directory has it for no customer, one or
        // several. The numbers acted on: the sender's, and each matching customer's as the directory writes it.
        List<String> numbers = java.util.stream.Stream.concat(java.util.stream.Stream.of(from), matches.stream().map(Customer::phone))
                .filter(n -> n != null && !n.isBlank())
                .collect(Collectors.toMap(n -> Suppressions.normalised("sms", n), n -> n, (a, b) -> a, java.util.LinkedHashMap::new))
                .values().stream().toList();
        String who = customer != null ? "customer " + customer.customerId()
                : matches.isEmpty() ? "the number " + masked + " (no customer in Herald's directory has it)"
                : "the number " + masked + " (" + (matches.size() > 2 ? "3 or more customers" : "2 customers") + " in Herald's directory share it: "
                        + matches.stream().map(Customer::customerId).collect(Collectors.joining(", ")) + (matches.size() > 2 ? ", ..." : "")
                        + "; give it to one customer only in the CRM)";
        String outcome;
        String reason;
        switch (action) {
            case "OPT_OUT" -> {
                List<String> toSuppress = numbers.stream().filter(n -> suppressions.reasonFor("sms", n) == null).toList();
                if (toSuppress.isEmpty()) {
                    outcome = "UNCHANGED";
                    reason = who + " replied " + keyword + "; SMS was already off: " + suppressions.reasonFor("sms", numbers.get(0));
                } else {
                    String why = (customer != null ? "customer" : "the number's holder") + " opted out of SMS by replying " + keyword
                            + " on " + DAY.format(Instant.now());
                    toSuppress.forEach(n -> receipts.optOut("sms", sid == null ? "" : sid, n, why));
                    outcome = "CONSENT_OFF";
                    reason = "SMS consent off: " + who + " replied " + keyword + (customer != null
                            ? "; their SMS notifications are skipped until they reply START"
                            : "; SMS notifications to that number are skipped until it replies START");
                }
            }
            case "OPT_IN" -> {
                int lifted = numbers.stream().mapToInt(n -> suppressions.liftAll("sms", n, CUSTOMER_ACTOR,
                        "the customer replied " + keyword + " by SMS")).sum();
                outcome = lifted > 0 ? "CONSENT_ON" : "UNCHANGED";
                reason = lifted > 0 ? "SMS consent on: " + who + " replied " + keyword + "; SMS notifications are sent again"
                        : who + " replied " + keyword + "; SMS was already on (the number was not suppressed)";
            }
            case "HELP" -> {
                outcome = "ANSWERED";
                reason = (providerAnswered ? "answered by Twilio with the help message of its Advanced Opt-Out (Herald sent none, so the"
                        + " customer got one answer)" : "answered with the help text (herald.sms.inbound.help-text)")
                        + (customer == null ? "; the number is " + (matches.isEmpty() ? "no customer's" : "several customers'") + " in the directory" : "");
            }
            default -> {
                outcome = "RECORDED";
                reason = "no keyword (STOP first, or STOP, START or HELP as the whole message); kept, nothing changed"
                        + (customer == null ? " (" + who + ")" : "");
            }
        }
        jdbc.update("UPDATE inbound_sms SET customer_id = ?, outcome = ?, reason = ? WHERE id = ?",
                customer == null ? null : customer.customerId(), outcome, reason, id);
        log.info("Inbound SMS {} from {}: {} {} ({})", sid, masked, action, outcome, customer == null ? "no single customer" : customer.customerId());
    }

    private static Message row(java.sql.ResultSet row, int n) throws java.sql.SQLException {
        Timestamp at = row.getTimestamp("received_at");
        return new Message(row.getLong("id"), at.toInstant(), row.getString("from_masked"), row.getString("customer_id"),
                row.getString("keyword"), row.getString("action"), row.getString("outcome"), row.getString("reason"));
    }

    private static String xml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String text(String value, int max) {
        String clean = value.replace("\u0000", "");
        return clean.length() > max ? clean.substring(0, max) : clean;
    }
}
