package io.herald.dispatch;

/** A message longer than its provider takes even with the data's texts shortened: its template's own words are too long. */
public class MessageTooLong extends RuntimeException {

    public MessageTooLong(String reason) {
        super(reason);
    }
}
