package io.herald.ingest;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What Camel's HTTP binding would do with a form-encoded webhook body, decided before it sees one.
 * For a request whose Content-Type is {@code application/x-www-form-urlencoded} the binding reads
 * the body into message headers, one per name=value pair, and answers 500 (before any route, so
 * nothing is recorded) when a piece is not a pair or a %-escape is broken. The webhook gate uses
 * this to refuse such a body in words instead.
 */
final class FormBodies {

    private FormBodies() {
    }

    static boolean isForm(String contentType) {
        return contentType != null
                && contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT).equals("application/x-www-form-urlencoded");
    }

    /**
     * Why the body is not a form the binding can read, in words, or null when it is one. Pieces are
     * split at {@code &} as the binding splits them (trailing empty pieces dropped), each must be
     * {@code name=value} and decode as UTF-8 %-escapes.
     */
    static String malformed(byte[] body) {
        if (body.length == 0) {
            return null;
        }
        String[] pieces = new String(body, StandardCharsets.UTF_8).split("&");
        for (int i = 0; i < pieces.length; i++) {
            String piece = pieces[i];
            int equals = piece.indexOf('=');
            if (equals < 0) {
                return "body is not a form: part " + (i + 1) + " of " + pieces.length + " has no '=' (expected name=value pairs"
                        + " joined by &)";
            }
            try {
                URLDecoder.decode(piece.substring(0, equals), StandardCharsets.UTF_8);
                URLDecoder.decode(piece.substring(equals + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return "body is not a valid form: part " + (i + 1) + " of " + pieces.length + " has a broken %-escape"
                        + " (expected name=value pairs, %-encoded)";
            }
        }
        return null;
    }
}
