package io.herald.ingest;

/**
 * Turns exceptions into one readable sentence. DataSonnet wraps a mapping's own
 * {@code error "..."} message in a stack of engine detail; the operator needs only the sentence.
 */
final class MappingErrors {

    private MappingErrors() {
    }

    static boolean isMappingError(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t.getClass().getName().startsWith("com.datasonnet") || t.getClass().getName().startsWith("sjsonnet")) {
                return true;
            }
        }
        return false;
    }

    static String readable(Throwable cause) {
        if (cause == null) {
            return "unknown failure";
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = isMappingError(cause) ? mappingMessage(cause) : root.getMessage();
        return message == null || message.isBlank() ? root.getClass().getSimpleName() : message.strip();
    }

    private static String mappingMessage(Throwable cause) {
        String text = null;
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                text = t.getMessage();
            }
        }
        if (text == null) {
            return null;
        }
        // sjsonnet reports: "sjsonnet.Error: <message>\n    at ..." possibly prefixed by "Error evaluating..."
        String firstLine = text.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse(text);
        int marker = firstLine.lastIndexOf("Error: ");
        String message = marker >= 0 ? firstLine.substring(marker + "Error: ".length()) : firstLine;
        return "mapping failed: " + message;
    }
}
