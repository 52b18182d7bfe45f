package io.herald.helpdesk;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import io.herald.logging.Masking;

/**
 * The words of a ticket note: what the customer was told, on which channel and address (masked), and what came of it,
 * e.g. "Customer notified by email (j***@example.org) at 14:02 UTC: 'Your request #35436 is now Solved'".
 * Addresses and phone numbers in the message are masked: the note is read by agents, not by the customer.
 */
final class TicketNoteText {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm 'UTC' 'on' yyyy-MM-dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
    private static final int QUOTE = 120;

    private TicketNoteText() {
    }

    /** The note for one outcome of one delivery. */
    static String of(String outcome, String channel, String recipientMasked, String subject, String renderedBody,
                     String reason, Instant sentAt, Instant outcomeAt) {
        String how = channel(channel) + (recipientMasked == null ? "" : " (" + recipientMasked + ")");
        String what = quote(subject, renderedBody);
        String why = reason == null || reason.isBlank() ? "" : ": " + Masking.mask(reason.strip());
        String sent = sentAt == null ? "" : " (sent " + HOUR.format(sentAt) + ")";
        String at = TIME.format(outcomeAt);
        return switch (outcome) {
            case "SENT" -> "Customer notified by " + how + " at " + TIME.format(sentAt == null ? outcomeAt : sentAt) + what + ".";
            case "DELIVERED" -> "Delivered to the customer by " + how + " at " + at + what + sent + ".";
            case "BOUNCED" -> "Not delivered: the message by " + how + " bounced at " + at + what + sent + why
                    + ". The customer has not seen it; reach them another way.";
            case "UNDELIVERED" -> "Not delivered: the message by " + how + " could not be delivered at " + at + what + sent + why
                    + ". The customer has not seen it; reach them another way.";
            case "COMPLAINED" -> "The customer marked the message by " + how + " as spam at " + at + what + sent
                    + ". Later messages to this address are not sent.";
            case "FAILED" -> "Herald could not notify the customer by " + how + " (given up at " + at + ")" + what + why
                    + ". The customer has not been told; reach them another way.";
            case "UNCERTAIN" -> "Not known whether the customer was notified by " + how + " at " + at + what + why
                    + ". Check with the customer before assuming they saw it.";
            default -> throw new IllegalArgumentException("no ticket note for outcome " + outcome);
        };
    }

    private static String channel(String channel) {
        return switch (channel) {
            case "email" -> "email";
            case "sms" -> "SMS";
            case "push" -> "push notification";
            case "in_app" -> "in-app message";
            default -> channel;
        };
    }

    private static String quote(String subject, String body) {
        String text = subject != null && !subject.isBlank() ? subject : body;
        if (text == null || text.isBlank()) {
            return "";
        }
        String line = Masking.mask(text.strip().replaceAll("\\s+", " "));
        return ": '" + (line.length() > QUOTE ? line.substring(0, QUOTE) + "…" : line) + "'";
    }
}
