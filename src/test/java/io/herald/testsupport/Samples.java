package io.herald.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The real-shaped sample payloads (copied from shared/samples into src/test/resources/samples). */
public final class Samples {

    private Samples() {
    }

    public static String text(String path) {
        try (InputStream in = Samples.class.getResourceAsStream("/samples/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no sample " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A support sample about another ticket, so each test's events are distinct notifications. */
    public static String supportEvent(String file, String ticketId) {
        return text("support/" + file).replace("35436", ticketId);
    }
}
