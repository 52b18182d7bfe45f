package io.herald.config;

/**
 * What every secret setting must look like: no space or line break at either end. A secret put in a Kubernetes Secret
 * with {@code echo} or read from a file keeps its trailing newline, and then every signature check or provider login fails
 * at run time; refused at startup instead, naming the key (SettingsFailureAnalyzer).
 */
public final class Secrets {

    /** Empty, or starting and ending with a visible character. */
    public static final String NO_EDGE_SPACE = "(?s)|\\S|\\S.*\\S";
    public static final String EDGE_SPACE = "starts or ends with a space or line break (a secret written with echo, or read from a file"
            + " with its newline); remove it where it is set";

    private Secrets() {
    }

    /** True when the value has a space or line break at an end. */
    public static boolean hasEdgeSpace(String value) {
        return value != null && !value.isEmpty() && !value.equals(value.strip());
    }
}
