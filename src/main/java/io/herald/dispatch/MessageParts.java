package io.herald.dispatch;

import java.nio.charset.StandardCharsets;
import java.text.NumberFormat;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import io.herald.config.PushSettings;
import io.herald.config.SmsSettings;
import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationRules;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * One channel's message for one customer, its parts rendered from the templates (ChannelDelivery.PARTS_BY_CHANNEL; email
 * also its html part, or html written from its text), as the sender sends it and the approver previews it.
 * <p>
 * SMS and push are fitted to what their provider takes (herald.sms.max-length in characters, herald.push.max-length: title
 * and body together in UTF-8 bytes, as FCM counts its payload), and an SMS to the segments it may cost (herald.sms.max-segments, SmsSegments): a message over it is rendered again with the longest text of the data that it shows shortened ("…", at a word
 * where one is near), until it fits. So the template's own words (what happened, where to read the rest) stay whole and a
 * 5,000-character ticket subject is what gets cut, instead of the provider refusing the message. Links, ids and written
 * times, dates and amounts are never cut. A message that does not
 * fit even so (its template's own text is too long) fails with the reason, before any provider call. An email's subject
 * is kept to MAX_SUBJECT characters the same way (its body keeps the whole text).
 */
@Component
public class MessageParts {

    private static final Set<String> ONE_LINE_PARTS = Set.of("subject", "title");
    /** A shortened text keeps at least this much: a shorter one says nothing. */
    private static final int KEEP_AT_LEAST = 20;
    private static final int MAX_ROUNDS = 8;
    /** Fields whose value is cut never: links, ids, written times, dates and amounts. */
    /** An email subject's most characters: about what a mail client's list shows; a longer one is shortened like an SMS. */
    static final int MAX_SUBJECT = 150;
    private static final Pattern WHOLE_FIELD = Pattern.compile("(Url|Link|Id|Local|LocalDate)$");

    private final TemplateRenderer templates;
    private final Map<String, Integer> limits;
    private final int smsSegments;

    /** config/rules.yaml: which fields are someone's words (kind text); null: none declared. */
    private final NotificationRules rules;

    public MessageParts(TemplateRenderer templates, SmsSettings sms, PushSettings push) {
        this(templates, sms, push, null);
    }

    @Autowired
    public MessageParts(TemplateRenderer templates, SmsSettings sms, PushSettings push, NotificationRules rules) {
        this.templates = templates;
        this.limits = Map.of("sms", sms.maxLength(), "push", push.maxLength());
        this.smsSegments = sms.maxSegments();
        this.rules = rules;
    }

    /** The parts by name ("subject", "text", "html"; "title", "body"), fitted to the channel's limit. */
    public Map<String, String> render(CanonicalNotification notification, String type, String channel, Customer customer) {
        Map<String, Object> context = inAlphabet(channel,
                MessageContext.of(notification, MessageContext.readerOf(channel, customer), templates.writingLocale(type, channel, customer.locale())));
        Set<String> words = words(notification, channel);
        Map<String, String> parts = renderParts(type, channel, customer, context, words);
        if (limits.containsKey(channel)) {
            for (int round = 0; round < MAX_ROUNDS && length(channel, parts) > limit(channel, parts); round++) {
                int limit = limit(channel, parts);
                String longest = longestShown(context, parts);
                if (longest == null) {
                    break;
                }
                String value = (String) context.get(longest);
                context = new HashMap<>(context);
                String ellipsis = inAlphabet(channel, "…");
                context.put(longest, inAlphabet(channel, shortened(value, kept(channel, value, length(channel, parts) - limit, ellipsis))));
                parts = renderParts(type, channel, customer, context, words);
            }
            if (length(channel, parts) > limit(channel, parts)) {
                throw new MessageTooLong(tooLong(type, channel, customer, parts));
            }
        }
        if ("email".equals(channel) && parts.get("subject").length() > MAX_SUBJECT) {
            parts.put("subject", fittedSubject(type, channel, customer, context, parts.get("subject"), words));
        }
        // A subject or a title is one line: a line break from the data (a ticket subject with CR LF) becomes a space, and
        // invisible zero-width characters (U+200B, U+2060, U+FEFF) are taken out.
        parts.replaceAll((part, text) -> ONE_LINE_PARTS.contains(part)
                ? text.replaceAll("\\s*\\R\\s*", " ").replaceAll("[\\u200B\\u2060\\uFEFF]", "") : text);
        if ("email".equals(channel)) {
            String writtenIn = templates.localeFor(type, channel, customer.locale());
            String text = parts.get("text");
            parts.put("html", templates.renderOptional(type, channel, "html", customer.locale(), context, words)
                    .orElseGet(() -> HtmlFromText.of(text, writtenIn)));
        }
        return parts;
    }

    /**
     * An email's subject rendered again with the longest text it shows shortened until it has at most MAX_SUBJECT characters
     * (the body keeps the whole text); one whose template's own words are longer is left as it is.
     */
    private String fittedSubject(String type, String channel, Customer customer, Map<String, Object> context, String subject,
                                 Set<String> words) {
        for (int round = 0; round < MAX_ROUNDS && subject.length() > MAX_SUBJECT; round++) {
            String longest = longestShown(context, Map.of("subject", subject));
            if (longest == null) {
                break;
            }
            String value = (String) context.get(longest);
            context = new HashMap<>(context);
            context.put(longest, shortened(value, value.length() - (subject.length() - MAX_SUBJECT) - 1));
            subject = templates.render(type, channel, "subject", customer.locale(), context, words);
        }
        return subject;
    }

    /**
     * The texts of the fields config/rules.yaml declares as someone's words (kind text: a ticket's subject, an agent's reply), as
     * this channel writes them: printed as written even where one reads like an amount or a time ("49.00 USD").
     */
    private Set<String> words(CanonicalNotification notification, String channel) {
        if (rules == null) {
            return Set.of();
        }
        Set<String> words = new HashSet<>();
        for (String field : rules.textFields(notification.type())) {
            if (notification.data().get(field) instanceof String text) {
                words.add(text);
                words.add(inAlphabet(channel, text));
            }
        }
        return words;
    }

    private Map<String, String> renderParts(String type, String channel, Customer customer, Map<String, Object> context,
                                            Set<String> words) {
        Map<String, String> parts = new LinkedHashMap<>();
        for (String part : ChannelDelivery.PARTS_BY_CHANNEL.get(channel)) {
            String text = templates.render(type, channel, part, customer.locale(), context, words);
            parts.put(part, inAlphabet(channel, text));
        }
        return parts;
    }

    /** An SMS's text in GSM-7 where a typographic character would make it UCS-2 (SmsText); other channels' as it is. */
    private static String inAlphabet(String channel, String text) {
        return "sms".equals(channel) ? SmsText.plain(text) : text;
    }

    /** The context's texts as an SMS writes them, so the texts the message shows are found in it when it must be shortened. */
    private static Map<String, Object> inAlphabet(String channel, Map<String, Object> context) {
        if (!"sms".equals(channel)) {
            return context;
        }
        Map<String, Object> plain = new HashMap<>(context);
        // Links are not changed by it: those a customer is offered are plain ASCII (herald.webLinkOrNull).
        plain.replaceAll((field, value) -> value instanceof String text ? SmsText.plain(text) : value);
        return plain;
    }

    /** The most characters the parts may have: the provider's limit, and for an SMS the segments it may cost in its alphabet. */
    private int limit(String channel, Map<String, String> parts) {
        int limit = limits.get(channel);
        return "sms".equals(channel) ? Math.min(limit, SmsSegments.characters(parts.get("text"), smsSegments)) : limit;
    }

    /** The parts' size as the provider counts it: an SMS in characters, a push in UTF-8 bytes (FCM takes 4,096 bytes of payload). */
    private static int length(String channel, Map<String, String> parts) {
        return "push".equals(channel) ? parts.values().stream().mapToInt(MessageParts::utf8Bytes).sum()
                : parts.values().stream().mapToInt(String::length).sum();
    }

    private static int utf8Bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** How many characters of the value to keep so that the message loses {@code over} (in the channel's unit) and gains the ellipsis. */
    private static int kept(String channel, String value, int over, String ellipsis) {
        if (!"push".equals(channel)) {
            return value.length() - over - ellipsis.length();
        }
        int budget = utf8Bytes(value) - over - utf8Bytes(ellipsis);
        int keep = 0;
        int bytes = 0;
        while (keep < value.length()) {
            int next = value.offsetByCodePoints(keep, 1);
            bytes += utf8Bytes(value.substring(keep, next));
            if (bytes > budget) {
                break;
            }
            keep = next;
        }
        return keep;
    }

    /**
     * The field of the data with the longest free text the message shows that can still be shortened; null when none. A
     * link (a value with "://", a field named …Url or …Link), an id (…Id) and a written time, date or amount (…Local,
     * …LocalDate) are never cut: cut, they would mislead or lead nowhere, so such a message fails instead.
     */
    private static String longestShown(Map<String, Object> context, Map<String, String> parts) {
        String longest = null;
        int length = KEEP_AT_LEAST + 1;
        for (Map.Entry<String, Object> field : context.entrySet()) {
            if (field.getValue() instanceof String text && text.length() > length && !WHOLE_FIELD.matcher(field.getKey()).find()
                    && !text.contains("://") && parts.values().stream().anyMatch(part -> part.contains(text))) {
                longest = field.getKey();
                length = text.length();
            }
        }
        return longest;
    }

    /** At most {@code keep} characters of the text and "…", cut after a word when one ends in the last fifth. */
    static String shortened(String text, int keep) {
        int end = Math.max(KEEP_AT_LEAST, keep);
        if (Character.isLowSurrogate(text.charAt(end))) {
            end--;
        }
        int space = text.lastIndexOf(' ', end);
        if (space > end - end / 5) {
            end = space;
        }
        return text.substring(0, end).stripTrailing() + "…";
    }

    private String tooLong(String type, String channel, Customer customer, Map<String, String> parts) {
        NumberFormat count = NumberFormat.getIntegerInstance(Locale.UK);
        String what = channel.equals("sms") ? "SMS text" : "push title and body";
        String unit = channel.equals("push") ? " bytes (UTF-8)" : " characters";
        int limit = limit(channel, parts);
        String setting = limit < limits.get(channel)
                ? "in " + smsSegments + (smsSegments == 1 ? " segment" : " segments") + ", the most one SMS may cost (herald.sms.max-segments)"
                : "the provider takes at most " + count.format(limit) + (channel.equals("push") ? " bytes" : "") + " (herald." + channel + ".max-length)";
        return "the " + what + " is " + count.format(length(channel, parts)) + unit + " with the data's texts shortened, and "
                + (limit < limits.get(channel) ? count.format(limit) + " fit " + setting : setting) + ": shorten the " + channel + " templates of " + type
                + " in locale " + templates.localeFor(type, channel, customer.locale()) + " (templates/" + type + "/" + channel
                + ".*.mustache), then retry this delivery";
    }
}
