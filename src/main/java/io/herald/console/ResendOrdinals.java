package io.herald.console;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Resends as an operator counts them: the 1st, 2nd... resend of that delivery. A resend's id is one number across every
 * delivery, so the timeline of a delivery resent twice read "resend 4127: sent", as if it had been resent thousands of
 * times. The ledger keeps the id in what it writes ("resend 4127: sent", the approvals' addresses use it); the timeline and
 * the console's answer name the resend by its place among its delivery's resends, worked out when read ("2nd resend: sent").
 */
@Component
public class ResendOrdinals {

    private static final Pattern RESEND = Pattern.compile("\\bresend (\\d{1,18})\\b");

    private final JdbcTemplate jdbc;

    public ResendOrdinals(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** The resends of this notification's deliveries: each one's id, and its place among its own delivery's resends (1, 2...). */
    public Map<Long, Integer> ofNotification(long notificationId) {
        Map<Long, Integer> places = new HashMap<>();
        jdbc.query("""
                SELECT r.id, row_number() OVER (PARTITION BY r.delivery_id ORDER BY r.id) AS place
                FROM delivery_resend r JOIN delivery_all d ON d.id = r.delivery_id WHERE d.notification_id = ?""",
                row -> {
                    places.put(row.getLong("id"), row.getInt("place"));
                }, notificationId);
        return places;
    }

    /** The resends of one delivery: each one's id, and its place among them (1, 2...). */
    public Map<Long, Integer> placesOnDelivery(long deliveryId) {
        Map<Long, Integer> places = new HashMap<>();
        jdbc.query("SELECT id, row_number() OVER (ORDER BY id) AS place FROM delivery_resend WHERE delivery_id = ?",
                row -> {
                    places.put(row.getLong("id"), row.getInt("place"));
                }, deliveryId);
        return places;
    }

    /** This resend's place among its delivery's resends ("2nd"). */
    public String of(long resendId) {
        Integer place = jdbc.queryForObject("""
                SELECT count(*) FROM delivery_resend WHERE id <= ? AND delivery_id = (SELECT delivery_id FROM delivery_resend WHERE id = ?)""",
                Integer.class, resendId, resendId);
        return ordinal(place == null ? 1 : place);
    }

    /** The text with each "resend &lt;id&gt;" of these resends said as "2nd resend" ("sent by resend 4127" → "sent by 2nd resend"). */
    public static String named(String text, Map<Long, Integer> places) {
        if (text == null || places.isEmpty() || !text.contains("resend ")) {
            return text;
        }
        Matcher found = RESEND.matcher(text);
        StringBuilder out = new StringBuilder();
        while (found.find()) {
            Integer place = places.get(Long.parseLong(found.group(1)));
            found.appendReplacement(out, Matcher.quoteReplacement(place == null ? found.group() : ordinal(place) + " resend"));
        }
        found.appendTail(out);
        return out.toString();
    }

    /**
     * This resend as a person reads it where no delivery is named around it (the approvals, a refusal): "2nd resend of
     * delivery 9". The resend's id stays in addresses and JSON id fields.
     */
    public String ofDelivery(long resendId) {
        Long deliveryId = jdbc.query("SELECT delivery_id FROM delivery_resend WHERE id = ?", (row, n) -> row.getLong(1), resendId)
                .stream().findFirst().orElse(null);
        return deliveryId == null ? "resend " + resendId : of(resendId) + " resend of delivery " + deliveryId;
    }

    /** 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st. */
    public static String ordinal(int n) {
        int lastTwo = n % 100;
        String suffix = lastTwo >= 11 && lastTwo <= 13 ? "th" : switch (n % 10) {
            case 1 -> "st";
            case 2 -> "nd";
            case 3 -> "rd";
            default -> "th";
        };
        return n + suffix;
    }
}
