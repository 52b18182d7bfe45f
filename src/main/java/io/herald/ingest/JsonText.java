package io.herald.ingest;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/** Quotes a string as a JSON string literal for small hand-built answers. */
final class JsonText {

    private JsonText() {
    }

    static String quote(String text) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(text == null ? "" : text)) + "\"";
    }
}
