package io.herald.ops;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.logging.Masking;
import org.springframework.stereotype.Component;

/**
 * Sorts failures into groups an operator acts on as one: the same kind, on the same channel (or
 * source, or stage), for the same reason class. A delivery's reason class is the provider's HTTP
 * status plus the reason with its variable parts (ids, numbers, masked addresses, times) blanked,
 * so a thousand "HTTP 503" failures are one group while "not a valid number" and "unsubscribed"
 * are two. Each group reads as a plain sentence with one example and a console link.
 */
@Component
public class FailureGroups {

    private static final Pattern HTTP_STATUS = Pattern.compile("HTTP (\\d{3})");
    private static final Pattern SMTP_REPLY = Pattern.compile("mail server answered ([45]\\d\\d)");
    /**
     * The email channel's own words for a refused recipient (RecipientRefused), login (MailLoginRefused) or setup
     * (MailSetupRefused), the reply's code quoted.
     */
    private static final Pattern SMTP_REFUSED = Pattern.compile("mail server refused (the recipient|Herald's login|Herald's sender address"
            + "|Herald's mail without a login|Herald's mail without encryption|to relay Herald's mail|Herald's greeting name)"
            + "(?:[^(]*\\((\\d{3})[ -])?");
    private static final Pattern MASKED_EMAIL = Pattern.compile("\\S\\*\\*\\*@\\S+");
    /** A token's shown prefix ("push token dGhpcyBp…") and a customer's id: one kind of failure whoever's they are. */
    private static final Pattern PUSH_TOKEN = Pattern.compile("push token \\S+");
    private static final Pattern CUSTOMER_ID = Pattern.compile("customer \\S+");
    // Any token holding a digit: ids, counts, times, masked phone numbers.
    private static final Pattern VARIABLE = Pattern.compile("[^\\s\"',;:()\\[\\]{}=]*\\d[^\\s\"',;:()\\[\\]{}=]*");
    private static final int EXAMPLE_LENGTH = 300;

    private static final Map<String, String> CHANNELS = Map.of("email", "Email", "sms", "SMS", "push", "Push",
            "in_app", "In-app", "ops_webhook", "Ops webhook");

    private final ConsoleLinks links;

    public FailureGroups(ConsoleLinks links) {
        this.links = links;
    }

    /** The rows grouped, in the order each group was first seen. */
    public Map<String, FailureGroup> group(List<FailureRow> rows) {
        Map<String, FailureGroup> groups = new LinkedHashMap<>();
        for (FailureRow row : rows) {
            groups.merge(keyOf(row), first(row), (existing, added) -> existing.plus(row));
        }
        return groups;
    }

    private FailureGroup first(FailureRow row) {
        String example = example(row.reason());
        return switch (row.kind()) {
            case "FAILED" -> new FailureGroup(keyOf(row), channel(row.where()) + " not sent - " + explain(row.reason()),
                    "delivery", example, links.notification(row.notificationId()),
                    links.failures("state", "FAILED", "channel", row.where()), 1, row.at(), row.at());
            case "UNCERTAIN" -> new FailureGroup(keyOf(row), channel(row.where())
                    + " outcome unknown - " + uncertain(row.reason()) + "; check whether the customer got it, and resend if not",
                    "delivery", example, links.notification(row.notificationId()),
                    links.failures("state", "UNCERTAIN", "channel", row.where()), 1, row.at(), row.at());
            case "WINDOW" -> new FailureGroup(keyOf(row), row.detail() + " by " + channel(row.where())
                    + (row.sentLate() ? " sent after its send window" : " not sent within its send window")
                    + (row.window() == null ? "" : " (" + human(row.window()) + " from the event)"),
                    "delivery", example, links.notification(row.notificationId()),
                    links.failures("state", "WINDOW_MISSED", "type", row.detail(), "channel", row.where()), 1, row.at(), row.at());
            case "EXPIRED" -> new FailureGroup(keyOf(row), row.detail() + " by " + channel(row.where())
                    + " not sent - nobody approved or rejected it in time (herald.approvals.expire-after); " + (row.where().equals("ops_webhook")
                    ? "the team was not told, and sending the event again sends nothing (it is the same notification)"
                    : "the customer was not told, and sending the event again sends nothing (it is the same notification): tell them"
                            + " another way if they must still know"),
                    "delivery", example, links.notification(row.notificationId()),
                    links.notification(row.notificationId()), 1, row.at(), row.at());
            case "RESEND_EXPIRED" -> new FailureGroup(keyOf(row), row.detail() + " resent by " + channel(row.where())
                    + " not sent - nobody approved or rejected the operator's resend in time (herald.approvals.expire-after);"
                    + " resend it again if the customer still needs a copy", "resend", example, links.notification(row.notificationId()),
                    links.notification(row.notificationId()), 1, row.at(), row.at());
            case "LATE_DROPPED" -> new FailureGroup(keyOf(row), row.detail() + " by " + channel(row.where())
                    + " not sent - too late to be worth sending (config/catalog.yaml late: drop); sending the event again sends nothing"
                    + " (it is the same notification): if the customer must still know, tell them another way", "delivery", example, links.notification(row.notificationId()),
                    links.notification(row.notificationId()), 1, row.at(), row.at());
            case "LATE_HELD" -> new FailureGroup(keyOf(row), row.detail() + " by " + channel(row.where())
                    + " held for an operator - too late to send by itself (config/catalog.yaml late: hold); send it or dismiss it"
                    + " from the console", "delivery", example, links.notification(row.notificationId()),
                    links.notification(row.notificationId()), 1, row.at(), row.at());
            case "QUARANTINED" -> new FailureGroup(keyOf(row), capitalised(row.where()) + " events quarantined at step "
                    + row.detail() + " - they did not become notifications; fix the cause, then re-drive them",
                    "event", example, links.quarantined(row.id()),
                    links.failures("state", "QUARANTINED", "source", row.where()), 1, row.at(), row.at());
            case "REFUSED" -> new FailureGroup(keyOf(row), refused(row), "notification", example,
                    links.rejected(row.where()), links.rejected(row.where()), 1, row.at(), row.at());
            default -> new FailureGroup(keyOf(row), "Messages Herald could not process at all (stage " + row.where()
                    + ") - kept as dead letters", "message", example, links.failures("state", "DEAD_LETTER"),
                    links.failures("state", "DEAD_LETTER"), 1, row.at(), row.at());
        };
    }

    static String keyOf(FailureRow row) {
        String key = switch (row.kind()) {
            case "FAILED" -> "FAILED|" + row.where() + "|" + status(row.reason()) + "|" + reasonClass(row.reason());
            case "UNCERTAIN" -> "UNCERTAIN|" + row.where() + "|" + uncertain(row.reason());
            case "EXPIRED", "RESEND_EXPIRED" -> row.kind() + "|" + row.detail() + "|" + row.where();
            case "LATE_DROPPED", "LATE_HELD" -> row.kind() + "|" + row.detail() + "|" + row.where();
            case "WINDOW" -> "WINDOW|" + row.detail() + "|" + row.where() + "|" + (row.sentLate() ? "late" : "unsent");
            case "QUARANTINED" -> "QUARANTINED|" + row.where() + "|" + row.detail() + "|" + reasonClass(row.reason());
            case "REFUSED" -> "REFUSED|" + row.where() + "|" + row.detail();
            default -> row.kind() + "|" + row.where() + "|" + reasonClass(row.reason());
        };
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The reason with its variable parts blanked: what stays the same across one cause's failures. */
    static String reasonClass(String reason) {
        if (reason == null) {
            return "";
        }
        String blanked = VARIABLE.matcher(MASKED_EMAIL.matcher(PUSH_TOKEN.matcher(CUSTOMER_ID.matcher(reason).replaceAll("customer #"))
                .replaceAll("push token #")).replaceAll("…@…")).replaceAll("#");
        return blanked.length() > 200 ? blanked.substring(0, 200) : blanked;
    }

    private static String status(String reason) {
        Matcher http = HTTP_STATUS.matcher(reason == null ? "" : reason);
        return http.find() ? http.group(1) : "-";
    }

    /** What a delivery failure means, for someone who is not an engineer. */
    static String explain(String reason) {
        String r = reason == null ? "" : reason;
        String status = status(r);
        if (!"-".equals(status)) {
            int code = Integer.parseInt(status);
            String meaning = switch (code) {
                case 400, 422 -> "the provider rejected the message as invalid (not retried)";
                case 401, 403 -> "the provider refused Herald's credentials; check the account settings";
                case 404 -> "the provider's address was not found; check Herald's provider URL";
                case 429 -> "the provider kept limiting how fast Herald may send";
                default -> code >= 500 ? "the provider kept failing" : "the provider refused the message";
            };
            return meaning + " (HTTP " + code + ")";
        }
        if (r.contains("circuit breaker")) {
            return "the provider kept failing, so Herald stopped calling it for a while";
        }
        if (r.contains("opted out at the provider")) {
            return "the customer's number opted out (replied STOP); it is suppressed for SMS until they reply START";
        }
        if (r.contains("is not a mobile number (a landline")) {
            return "the customer's phone number cannot take SMS (a landline, or no mobile number); it is suppressed for SMS:"
                    + " correct it in the CRM";
        }
        if (r.contains("push token") && (r.contains("no longer registered") || r.contains("not a valid registration token"))) {
            return "the device's push token is no longer valid; it was removed from the customer's directory entry";
        }
        if (r.contains("in the directory cannot be sent to")) {
            return "the customer's address in the directory cannot be sent to; correct it in the CRM";
        }
        if (r.contains(" in the directory") && r.matches("(?s).*customer \\S+ has no .*")) {
            return "the customer has no address for this channel in the directory";
        }
        Matcher refused = SMTP_REFUSED.matcher(r);
        if (refused.find()) {
            String code = refused.group(2) == null ? "" : " (SMTP " + refused.group(2) + ")";
            return switch (refused.group(1)) {
                case "the recipient" -> "the mail server refused the customer's address" + code
                        + "; check it with the customer and correct it in the CRM";
                case "Herald's login" -> "the mail server refused Herald's login" + code + "; check herald.mail.username and herald.mail.password";
                case "Herald's sender address" -> "the mail server refused Herald's sender address" + code + "; check herald.mail.from";
                case "Herald's mail without a login" -> "the mail server requires a login" + code
                        + "; set herald.mail.username and herald.mail.password";
                case "Herald's mail without encryption" -> "the mail server requires encryption" + code
                        + "; set herald.mail.tls to starttls or ssl";
                case "to relay Herald's mail" -> "the mail server refused to relay Herald's mail" + code
                        + "; allow Herald in the relay's permitted networks or set herald.mail.username and herald.mail.password";
                default -> "the mail server refused Herald's greeting name" + code + "; set herald.mail.helo-name to a fully qualified name";
            };
        }
        Matcher smtp = SMTP_REPLY.matcher(r);
        if (smtp.find()) {
            return (smtp.group(1).startsWith("5") ? "the mail server refused the message" : "the mail server kept refusing it for now")
                    + " (SMTP " + smtp.group(1) + ")";
        }
        if (r.contains("unreachable")) {
            return "the provider could not be reached";
        }
        if (r.contains("did not answer within the response timeout") || r.contains("did not answer in time")) {
            return "the provider did not answer in time";
        }
        if (r.contains("template")) {
            return "a message template is missing or could not be filled";
        }
        return "an unexpected error";
    }

    /** Why a delivery's outcome is unknown: Herald stopped mid-call, or the provider's answer never came or was cut off. */
    static String uncertain(String reason) {
        String r = reason == null ? "" : reason;
        if (r.contains("Herald stopped while")) {
            return "Herald stopped while sending";
        }
        if (r.contains("did not answer within the response timeout")) {
            return "the provider did not answer in time after it was sent the request";
        }
        if (r.contains("answer was cut off") || r.contains("connection to the provider was lost")) {
            return "the connection to the provider broke after it was sent the request";
        }
        if (r.contains("gave no final answer")) {
            return "the mail server took the message but gave no final answer";
        }
        return "an unexpected error";
    }

    /** A sender's own request refused for its body (today only Alertmanager's, on the incident webhook), and what to do. */
    private static String refused(FailureRow row) {
        String sender = "incidents".equals(row.where()) ? "Alertmanager's incident notifications" : capitalised(row.where()) + " webhook requests";
        String lost = "incidents".equals(row.where())
                ? " - Alertmanager does not send a refused notification again, so these incidents were NOT posted here; look them up in"
                  + " Alertmanager"
                : " - the sender does not send them again";
        return switch (row.detail()) {
            case "413" -> sender + " refused as too large for herald.ingest.max-body-bytes" + lost
                    + ("incidents".equals(row.where()) ? ", and set max_alerts on Herald's receiver (or raise herald.ingest.max-body-bytes)" : "");
            case "415" -> sender + " refused for their content type" + lost + ", and check the sender's webhook settings";
            default -> sender + " refused as not in the expected format (the example names the field)" + lost
                    + ("incidents".equals(row.where()) ? ", and check what sends to Herald's incident webhook (webhook format version 4)" : "");
        };
    }

    private static String example(String reason) {
        String masked = Masking.mask(reason == null ? "" : reason.strip().replaceAll("\\s+", " "));
        return masked.length() > EXAMPLE_LENGTH ? masked.substring(0, EXAMPLE_LENGTH) + "…" : masked;
    }

    private static String channel(String channel) {
        return CHANNELS.getOrDefault(channel, channel);
    }

    private static String capitalised(String word) {
        return word == null || word.isEmpty() ? "Source" : Character.toUpperCase(word.charAt(0)) + word.substring(1);
    }

    /** PT1H -> "1 hour", PT90M -> "1 hour 30 minutes", P3D -> "3 days". */
    static String human(Duration d) {
        StringBuilder out = new StringBuilder();
        append(out, d.toDaysPart(), "day");
        append(out, d.toHoursPart(), "hour");
        append(out, d.toMinutesPart(), "minute");
        append(out, d.toSecondsPart(), "second");
        return out.isEmpty() ? d.toString() : out.toString();
    }

    private static void append(StringBuilder out, long amount, String unit) {
        if (amount > 0) {
            out.append(out.isEmpty() ? "" : " ").append(amount).append(' ').append(unit).append(amount == 1 ? "" : "s");
        }
    }
}
