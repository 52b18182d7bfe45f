package io.herald.notification;

/**
 * A mapped event whose canonical fields themselves are missing or of the wrong kind (no sourceEventId, data that is not an
 * object, a type the catalog does not have): the mapping wrote it so, not the source, so the remedy is the mapping's.
 */
public class MappingOutputInvalid extends InvalidNotification {

    public MappingOutputInvalid(String reason) {
        super(reason);
    }
}
