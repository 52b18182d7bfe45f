package io.herald.dispatch;

import java.math.BigDecimal;
import java.text.NumberFormat;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.chrono.IsoChronology;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.FormatStyle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Currency;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;

/**
 * What a template may use: the notification's data and refs at the top level, plus customer.*, and every
 * time and amount of the data also written for the customer, so a template never prints a raw value:
 * <ul>
 * <li>a time (ISO-8601 with an offset, "2025-11-24T10:00:00Z") comes as {@code <field>Local}, date and time in
 * the customer's zone and language ("Montag, 24. November 2025, 11:00 MEZ"), and {@code <field>LocalDate}, the
 * day alone in that zone ("Montag, 24. November 2025");</li>
 * <li>a date ("2026-11-25") comes as {@code <field>Local} ("Wednesday, 25 November 2026");</li>
 * <li>an amount in the mappings' form ("1250.00 EUR", herald.libsonnet money) comes as {@code <field>Local},
 * written the customer's way ("1.250,00 €", "€1,250.00");</li>
 * <li>a number of minutes in a field named {@code …Minutes} comes as {@code <field>Local}: "1 minute", "45 minutes",
 * "45 Minuten" (languages without words here: "45 min").</li>
 * <li>any other number comes as {@code <field>Local}, written the locale's way: a quantity of 1.5 reads "1,5" in German,
 * 1000 "1,000" in English.</li>
 * <li>a time {@code previous<Field>} naming the same instant as {@code <field>} (however each was written) adds
 * {@code <field>Unchanged} (true): an appointment "moved" to the time it already had, only its details changed, so
 * the notice says so instead of "moved from 10:00 to 10:00".</li>
 * </ul>
 * They are written in the customer's time zone and in the locale the message is written in (the customer's own when
 * the template is in the customer's language). A customer whose zone is UTC (the directory's value when the source
 * gave none) or one Java does not know reads a time in the offset it came with ("14:30 UTC-05:00" for a CRM appointment
 * at 14:30-05:00; "10:00 UTC" for Stripe's times), never at an hour the source did not mean.
 * The same applies inside lists of objects ({@code {{#lines}}{{priceLocal}}{{/lines}}}). The raw values stay
 * (rules and approvals read them, sections test them); templates/README.md states the rule and
 * TemplatesLocalisedTest checks every template against it.
 */
final class MessageContext {

    /** The mappings' display form of an amount: "49.00 USD", "-2.50 EUR", "500 JPY". */
    private static final Pattern MONEY = Pattern.compile("(-?\\d{1,15}(?:\\.\\d{1,3})?) ([A-Za-z]{3})");
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
    /**
     * Unicode's bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): in text a source writes (a ticket's
     * subject is whatever its requester mailed), "Your refund \u202Efdp.exe\u202C" shows as "Your refund exe.pdf", the
     * disguise of a file name. Taken out of every value a template prints; the marks U+200E/U+200F, which right-to-left text
     * uses, stay.
     */
    private static final Pattern BIDI_CONTROLS = Pattern.compile("[\u202A-\u202E\u2066-\u2069]");
    /** In a name: runs of line breaks, tabs and other control characters, with the spaces around them. */
    private static final Pattern NAME_BREAKS = Pattern.compile("\\s*[\\p{Cc}\\u2028\\u2029\\u0085]+\\s*");

    /*
     * What Java builds anew for each locale on every call (a lookup through its locale providers, a pattern parsed), kept
     * per locale: a message used to build them for every delivery (a sender profile found NumberFormat.getNumberInstance
     * and the clock's pattern in 3% of the senders' CPU). DateTimeFormatter is immutable; a NumberFormat is not shared
     * between threads, so each message takes a copy (clone) of the locale's.
     */
    private static final Map<Locale, NumberFormat> NUMBERS = new ConcurrentHashMap<>();
    private static final Map<Locale, DateTimeFormatter> DATES = new ConcurrentHashMap<>();
    private static final Map<List<Object>, DateTimeFormatter> CLOCKS = new ConcurrentHashMap<>();
    private static final int MOST_CLOCKS_KEPT = 1000;

    /** A currency symbol ending in a letter right before the digits ("KWD12.345", "-CHF80.00"). */
    private static final Pattern LETTERS_THEN_DIGIT = Pattern.compile("(\\p{L})(?=\\d)");

    private MessageContext() {
    }

    /** The context for one message, its times and amounts written for {@code locale} (TemplateRenderer.writingLocale). */
    static Map<String, Object> of(CanonicalNotification notification, Customer customer, Locale locale) {
        Map<String, Object> context = new HashMap<>();
        notification.refs().forEach((k, v) -> {
            if (v != null) {
                context.put(k, v instanceof String text ? BIDI_CONTROLS.matcher(text).replaceAll("") : v);
            }
        });
        NumberFormat numbers = numbers(locale);
        context.putAll(localised(notification.data(), new Writing(zoneOf(customer), locale, clockOf(customer, locale), numbers)));
        context.putAll(unchangedTimes(notification.data()));
        Map<String, Object> who = new HashMap<>();
        who.put("id", customer.customerId());
        String name = oneLine(customer.displayName());
        if (!name.isEmpty()) {   // a name of spaces (or of control characters, dropped when stored) is no name
            who.put("name", name);
        }
        // The CRM's own first name, whole ("Ana María"); "" when the name has none (only a last name): no first name, never the
        // last name. Not known (an entry from before, a seed): the display name's first word, as before.
        String first = customer.firstName() != null ? oneLine(customer.firstName()) : name.isEmpty() ? "" : name.split("\\s+")[0];
        if (!first.isEmpty()) {
            who.put("firstName", first);
        }
        context.put("customer", who);
        context.put("type", notification.type());
        return context;
    }

    /** The locale's way of writing a number, this message's own copy; a quantity of 1.2345 is not rounded to 1.234. */
    private static NumberFormat numbers(Locale locale) {
        return (NumberFormat) NUMBERS.computeIfAbsent(locale, l -> {
            NumberFormat format = NumberFormat.getNumberInstance(l);
            format.setMaximumFractionDigits(10);
            return format;
        }).clone();
    }

    /**
     * A name as a greeting prints it: one line, without bidi controls; a line break, a tab or another control character a CRM's
     * form let into it ("Ana\nMaría") is one space. "" for none.
     */
    private static String oneLine(String name) {
        return name == null ? "" : NAME_BREAKS.matcher(BIDI_CONTROLS.matcher(name).replaceAll("")).replaceAll(" ").strip();
    }

    /**
     * Whom a message of this channel is written for: the customer, except on the ops webhook, read by the team in one channel
     * for customers everywhere, where times are written in UTC ("01:30 UTC"), not in each customer's zone ("7:30 PM CST" for
     * Chicago and "09:30 CST" for Shanghai, the same abbreviation 14 hours apart). Their language stays.
     */
    static Customer readerOf(String channel, Customer customer) {
        if (!"ops_webhook".equals(channel)) {
            return customer;
        }
        return new Customer(customer.customerId(), customer.displayName(), customer.email(), customer.phone(), customer.pushTokens(),
                customer.locale(), "UTC", customer.preferences(), customer.firstName());
    }

    /** How one message writes: the customer's zone (null: at the offset a time came with), its locale, the clock's pattern, its numbers (not shared between threads: one per message). */
    private record Writing(ZoneId zone, Locale locale, DateTimeFormatter clock, NumberFormat numbers) {
    }

    /** The fields without nulls, each time, date and amount joined by its written forms; objects in lists likewise. */
    private static Map<String, Object> localised(Map<String, ?> fields, Writing writing) {
        ZoneId zone = writing.zone();
        Locale locale = writing.locale();
        Map<String, Object> out = new LinkedHashMap<>();
        fields.forEach((k, v) -> {
            if (v == null) {
                return;
            }
            out.put(k, nested(v, writing));
            if (k.endsWith("Minutes") && (v instanceof Number || v instanceof String)) {
                minutes(v, locale).ifPresent(written -> out.put(k + "Local", written));
            } else if (v instanceof Number number) {
                out.put(k + "Local", writing.numbers().format(number));   // one format per message: an order may have 14,000 lines
            } else if (v instanceof String text) {
                Optional<OffsetDateTime> time = time(text);
                if (time.isPresent()) {
                    ZonedDateTime at = zone != null ? time.get().atZoneSameInstant(zone) : asGiven(time.get());
                    out.put(k + "Local", date(at.toLocalDate(), locale) + ", " + writing.clock().format(at));
                    out.put(k + "LocalDate", date(at.toLocalDate(), locale));
                } else {
                    day(text).map(d -> date(d, locale)).or(() -> money(text, locale))
                            .ifPresent(written -> out.put(k + "Local", written));
                }
            }
        });
        return out;
    }

    /** {@code <field>Unchanged: true} for each {@code previous<Field>} at the same instant as {@code <field>} (top level). */
    private static Map<String, Object> unchangedTimes(Map<String, ?> fields) {
        Map<String, Object> out = new HashMap<>();
        fields.forEach((k, v) -> {
            if (k.length() > "previous".length() && k.startsWith("previous") && v instanceof String before) {
                String field = Character.toLowerCase(k.charAt(8)) + k.substring(9);
                Optional<OffsetDateTime> was = time(before);
                Optional<OffsetDateTime> is = fields.get(field) instanceof String now ? time(now) : Optional.empty();
                if (was.isPresent() && is.isPresent() && was.get().isEqual(is.get())) {
                    out.put(field + "Unchanged", Boolean.TRUE);
                }
            }
        });
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object nested(Object value, Writing writing) {
        if (value instanceof Map<?, ?> map) {
            return localised((Map<String, ?>) map, writing);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(item -> out.add(item == null ? null : nested(item, writing)));
            return out;
        }
        if (value instanceof String text) {
            return BIDI_CONTROLS.matcher(text).replaceAll("");
        }
        return value;
    }

    /** The customer's own zone; null when it is UTC (the directory's default when none was given) or not a zone Java knows. */
    private static ZoneId zoneOf(Customer customer) {
        try {
            ZoneId zone = ZoneId.of(customer.timeZone().strip());
            return zone.normalized().equals(ZoneOffset.UTC) ? null : zone;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** A time at the offset it was written with, named "UTC" or "UTC-05:00" (a bare offset would print as "Z" or "-05:00"). */
    private static ZonedDateTime asGiven(OffsetDateTime time) {
        return time.atZoneSameInstant(ZoneId.ofOffset("UTC", time.getOffset()));
    }

    /** Whether the text is a time this class writes a {@code …Local} form for (ISO-8601 with an offset). */
    static boolean isTime(String text) {
        return time(text).isPresent();
    }

    /**
     * Whether the text is an amount exactly as the mappings write it ("49.00 USD": an upper-case code, as herald.libsonnet's
     * money writes it), which this class writes a {@code …Local} form for. "2 pen" is someone's words, not Peruvian soles.
     */
    static boolean isAmount(String text) {
        return text.equals(text.strip()) && text.length() > 4 && text.substring(text.length() - 3).chars().allMatch(c -> c >= 'A' && c <= 'Z')
                && money(text, Locale.ROOT).isPresent();
    }

    private static Optional<OffsetDateTime> time(String text) {
        // Any ISO-8601 date-time with an offset the rules accept (NotificationRules): "2026-12-07T10:00Z" (no seconds, as Java's
        // OffsetDateTime.toString() writes a whole minute) and a lower-case t or z too.
        if (text.length() < 17 || text.length() > 40 || text.charAt(4) != '-' || Character.toUpperCase(text.charAt(10)) != 'T') {
            return Optional.empty();
        }
        try {
            return Optional.of(OffsetDateTime.parse(text));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static Optional<LocalDate> day(String text) {
        if (!DATE.matcher(text).matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(LocalDate.parse(text));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /**
     * The time and zone on the clock the customer's own locale keeps ("14:30 MEZ"; "2:30 PM EST" for en-US, a 12-hour
     * clock), the zone named in the message's locale; a German customer reading an English fallback keeps the 24-hour
     * clock ("00:30 CET"). A customer locale Java cannot read: the message's.
     */
    private static DateTimeFormatter clockOf(Customer customer, Locale writing) {
        List<Object> key = Arrays.asList(customer.locale(), writing);
        DateTimeFormatter known = CLOCKS.get(key);
        if (known != null) {
            return known;
        }
        DateTimeFormatter clock = clock(customer.locale(), writing);
        if (CLOCKS.size() < MOST_CLOCKS_KEPT) {   // the customer's locale is the CRM's text: any number of values
            CLOCKS.put(key, clock);
        }
        return clock;
    }

    private static DateTimeFormatter clock(String customerLocale, Locale writing) {
        Locale own = customerLocale == null ? writing : Locale.forLanguageTag(customerLocale.strip().replace('_', '-'));
        Locale clock = own.getLanguage().isEmpty() ? writing : own;
        String pattern = DateTimeFormatterBuilder.getLocalizedDateTimePattern(null, FormatStyle.SHORT, IsoChronology.INSTANCE, clock);
        if (!clock.getLanguage().equals(writing.getLanguage())) {
            // Written in another language than the customer's own (an English fallback): only its 12- or 24-hour choice is
            // kept, in the message's order ("8:06 PM", "20:06"); the own pattern read "pm8:06" (zh-TW) or "in the evening 20:06" (my).
            String letters = pattern.replaceAll("'[^']*'", "");   // fr-CA writes "HH 'h' mm": a quoted h is text
            pattern = letters.indexOf('h') >= 0 || letters.indexOf('K') >= 0 ? "h:mm a" : "HH:mm";
        }
        return DateTimeFormatter.ofPattern(pattern + " zzz", writing);
    }

    private static String date(LocalDate day, Locale locale) {
        return DATES.computeIfAbsent(locale, l -> DateTimeFormatter.ofLocalizedDate(FormatStyle.FULL).withLocale(l)).format(day);
    }

    /** "1 minute", "45 minutes", "22,5 Minuten" in the locale's language; empty when it is not a number. */
    static Optional<String> minutes(Object value, Locale locale) {
        BigDecimal count;
        try {
            count = new BigDecimal(value.toString().strip());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        String written = numbers(locale).format(count);
        boolean one = count.compareTo(BigDecimal.ONE) == 0;
        return Optional.of(switch (locale.getLanguage()) {
            case "en" -> written + (one ? " minute" : " minutes");
            case "de" -> written + (one ? " Minute" : " Minuten");
            default -> written + " min";
        });
    }

    /** "1250.00 EUR" written for the locale: "1.250,00 €" (de-DE), "€1,250.00" (en-GB); empty when it is not an amount. */
    static Optional<String> money(String text, Locale locale) {
        Matcher m = MONEY.matcher(text.strip());   // as config/rules.yaml reads it (NotificationRules): "49.00 usd " too
        if (!m.matches()) {
            return Optional.empty();
        }
        Currency currency;
        try {
            currency = Currency.getInstance(m.group(2).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        BigDecimal amount = new BigDecimal(m.group(1));
        NumberFormat format = NumberFormat.getCurrencyInstance(locale);
        format.setCurrency(currency);
        format.setMinimumFractionDigits(amount.scale());
        format.setMaximumFractionDigits(amount.scale());
        // Java does not apply CLDR's currency spacing: a code-like symbol touching the digits ("KWD12.345", "CHF80.00") is
        // set apart by a no-break space ("KWD 12.345"), as CLDR and bank statements write it; "€49.00", "US$49.00" stay.
        return Optional.of(LETTERS_THEN_DIGIT.matcher(format.format(amount)).replaceAll("$1\u00a0"));
    }
}
