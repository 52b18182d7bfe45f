package io.herald.ingest;

import java.util.Arrays;

/**
 * A UTF-8 byte order mark (EF BB BF, U+FEFF once decoded) at the start of an event, which some senders write before their
 * JSON. Jackson reads past it, the DataSonnet mapping does not (it quarantined the event as "not valid JSON (line 1,
 * column 1)"), so it is taken off before an event is queued (after its signature, which covers it, was checked) and when a
 * record written straight to a source topic is read. Nothing else of the event changes.
 */
public final class ByteOrderMark {

    private ByteOrderMark() {
    }

    /** The bytes without a leading UTF-8 BOM (the same array when there is none). */
    public static byte[] strip(byte[] body) {
        if (body != null && body.length >= 3 && body[0] == (byte) 0xEF && body[1] == (byte) 0xBB && body[2] == (byte) 0xBF) {
            return Arrays.copyOfRange(body, 3, body.length);
        }
        return body;
    }

    /** The text without a leading U+FEFF (the same string when there is none). */
    public static String strip(String text) {
        return text != null && text.startsWith("\uFEFF") ? text.substring(1) : text;
    }
}
