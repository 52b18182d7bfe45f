package io.herald.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;

/**
 * Turns exceptions into one readable sentence. DataSonnet wraps a mapping's own
 * {@code error "..."} message in engine detail ("Problem executing script: com.datasonnet.jsonnet.Error: ...");
 * the operator needs only the sentence.
 */
final class MappingErrors {

    private MappingErrors() {
    }

    static String readable(Throwable cause, String step) {
        if (cause == null) {
            return "unknown failure";
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof JsonProcessingException json) {
                return "raw event is not valid JSON: " + firstLine(json.getOriginalMessage());
            }
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = firstLine(root.getMessage());
        if ("mapping".equals(step)) {
            int marker = message.lastIndexOf("Error: ");
            return "mapping failed: " + (marker >= 0 ? message.substring(marker + "Error: ".length()) : message);
        }
        return message.isBlank() ? root.getClass().getSimpleName() : message;
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        return text.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("");
    }
}
