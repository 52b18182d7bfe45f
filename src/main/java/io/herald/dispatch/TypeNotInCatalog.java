package io.herald.dispatch;

/**
 * A queued, parked, scheduled or approved delivery whose notification type was taken out of the catalog since it was
 * queued (edited, then Herald restarted): its channels and templates are no longer known, so it cannot be written. A
 * permanent failure of that delivery, in words naming the type and the catalog file, never an unexpected error.
 */
public class TypeNotInCatalog extends RuntimeException {

    /** {@code catalog}: the catalog as reasons name it (NotificationCatalog.named). */
    public TypeNotInCatalog(String type, String catalog) {
        super(type + " is not in the notification catalog (" + catalog + ") any more: it was taken out after this message"
                + " was queued, so Herald no longer knows how to write it. Add the type back and restart Herald, then retry this"
                + " delivery; or dismiss it");
    }
}
