package io.herald.dispatch;

/**
 * A template printed a time or an amount as the data holds it ("2026-12-05T22:04:56Z", "49.00 USD") where the customer
 * should read its written form ({{endedAtLocal}}). Thrown while the template is filled, for every variable of every
 * template, so an edited template or a field config/rules.yaml does not declare (which RawValuesInTemplatesCheck cannot
 * know at startup) never reaches a customer raw: TemplateRenderer turns it into the delivery's reason, naming the file
 * and the variable. Only whole values are taken for raw: a time with its offset, or an amount in the mappings' form
 * ("49.00 USD"); a date alone ("2026-11-25") may be a customer's own words (a ticket's subject) and is printed.
 */
final class RawValuePrinted extends RuntimeException {

    private final String value;
    private final String kind;

    private RawValuePrinted(String value, String kind) {
        super(kind + " printed as the data holds it: " + value, null, false, false);
        this.value = value;
        this.kind = kind;
    }

    /** Throws when {@code value} is a raw time or amount (MessageContext writes a …Local form for it). */
    static void check(Object value) {
        if (value instanceof String text) {
            String kind = MessageContext.isTime(text) ? "a time" : MessageContext.isAmount(text) ? "an amount" : null;
            if (kind != null) {
                throw new RawValuePrinted(text, kind);
            }
        }
    }

    String value() {
        return value;
    }

    String kind() {
        return kind;
    }
}
