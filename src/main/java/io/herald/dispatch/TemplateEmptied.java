package io.herald.dispatch;

/**
 * A template file that is empty when a message is rendered from it: an editor that saves in two steps (empties the file,
 * then writes it) was caught half-way, most likely. Its message says what a delivery that finally fails over it says; the
 * delivery is first parked and tried again (EmptyTemplates), since the file is usually written a moment later.
 */
public class TemplateEmptied extends TemplateMissing {

    private final String template;

    /** {@code template}: the file as reasons name it, inside the templates folder ("billing.invoice_paid/email.text.en.mustache"). */
    public TemplateEmptied(String template) {
        super("template " + template + " wrote nothing for this message (the file is empty): correct the"
                + " template, then retry this delivery; the next attempt uses the file as it is then");
        this.template = template;
    }

    /** What every reason of a delivery parked for an empty template says (EmptyTemplates counts those parks by it). */
    static final String WAITING = " was empty (perhaps being saved)";

    /** What a parked delivery's reason says of it: "template billing.invoice_paid/email.text.en.mustache was empty (perhaps being saved)". */
    public String waiting() {
        return "template " + template + WAITING;
    }
}
