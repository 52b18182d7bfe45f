package io.herald.dispatch;

import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.FormatStyle;
import java.util.HashMap;
import java.util.Locale;
import java.util.Optional;
import java.util.Map;

import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;

/**
 * What a template may use: the notification's data and refs at the top level, plus customer.*.
 * Every data time with an offset (a field named ...At, e.g. startsAt) also comes as ...AtLocal,
 * written in the customer's time zone and locale: "Tuesday 24 November 2026, 19:30 GMT".
 */
final class MessageContext {

    private MessageContext() {
    }

    static Map<String, Object> of(CanonicalNotification notification, Customer customer) {
        Map<String, Object> context = new HashMap<>();
        notification.refs().forEach((k, v) -> {
            if (v != null) {
                context.put(k, v);
            }
        });
        ZoneId zone = zoneOf(customer);
        Locale locale = Locale.forLanguageTag(customer.locale() == null ? "en" : customer.locale().replace('_', '-'));
        notification.data().forEach((k, v) -> {
            if (v != null) {
                context.put(k, v);
                if (k.endsWith("At") && v instanceof String text) {
                    localTime(text, zone, locale).ifPresent(local -> context.put(k + "Local", local));
                }
            }
        });
        Map<String, Object> who = new HashMap<>();
        who.put("id", customer.customerId());
        if (customer.displayName() != null) {
            who.put("name", customer.displayName());
            who.put("firstName", customer.displayName().split(" ")[0]);
        }
        context.put("customer", who);
        context.put("type", notification.type());
        return context;
    }

    private static ZoneId zoneOf(Customer customer) {
        try {
            return ZoneId.of(customer.timeZone());
        } catch (RuntimeException e) {
            return ZoneOffset.UTC;
        }
    }

    static Optional<String> localTime(String isoWithOffset, ZoneId zone, Locale locale) {
        try {
            ZonedDateTime at = OffsetDateTime.parse(isoWithOffset).atZoneSameInstant(zone);
            return Optional.of(DateTimeFormatter.ofLocalizedDate(FormatStyle.FULL).withLocale(locale).format(at) + ", "
                    + DateTimeFormatter.ofPattern("HH:mm zzz", locale).format(at));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
