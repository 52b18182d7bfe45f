package io.herald.ingest;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The values of a signature header that may come more than once: a proxy that adds its own copy of the header, or keeps a
 * stale one, sends two, which reach a route as a list of values or as one value joined by commas. The base64 signatures
 * these headers carry never hold a comma, so each piece is one signature to try; one that matches is enough (as Stripe's
 * several v1 signatures during a secret's rotation).
 */
public final class SignatureHeaders {

    /** At most this many are tried: a request cannot make Herald compute signatures without end. */
    static final int MAX_TRIED = 8;

    private SignatureHeaders() {
    }

    /** The signatures the header holds, in the order sent, blanks dropped; empty when there is none. */
    public static List<String> values(Object header) {
        List<String> values = new ArrayList<>();
        if (header instanceof Collection<?> several) {
            several.forEach(one -> add(values, one));
        } else {
            add(values, header);
        }
        return values.size() > MAX_TRIED ? List.copyOf(values.subList(0, MAX_TRIED)) : values;
    }

    private static void add(List<String> values, Object header) {
        if (header == null) {
            return;
        }
        for (String piece : header.toString().split(",")) {
            if (!piece.isBlank()) {
                values.add(piece.strip());
            }
        }
    }

    /** Words for a refusal: how many were tried, when more than one came. */
    public static String tried(List<String> values) {
        return values.size() > 1 ? values.size() + " signatures tried; " : "";
    }
}
