package io.herald.dispatch;

/** No template, or a template that needs a value the notification does not have: that delivery fails, clearly. */
public class TemplateMissing extends RuntimeException {

    public TemplateMissing(String reason) {
        super(reason);
    }
}
