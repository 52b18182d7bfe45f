package io.herald.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * config/catalog.yaml with every type's ops webhook posted one per notification (ops: each) instead of
 * in digests, and without customer digests (digest: ...; each notification goes out at once). For the tests whose subject is the per-notification guarantees of an HTTP channel (one
 * ops post per notification with its own Idempotency-Key, across redeliveries, crashes and outages);
 * the digest path has its own test (OpsDigestTest) on the shipped catalog. Late messages are sent late here, as before the
 * late-message policy ({@link LateSentCatalog}): the shared tests post the 2025-dated samples as they are.
 */
public final class OpsEachCatalog {

    private OpsEachCatalog() {
    }

    public static Path file() {
        try {
            // Without quiet hours: the shared context's tests send at once, whatever the hour they run at.
            String shipped = WithoutQuietHours.of(Files.readString(Path.of("config", "catalog.yaml")));
            if (!shipped.contains("ops: digest")) {
                throw new IllegalStateException("config/catalog.yaml has no 'ops: digest' entry to turn into 'ops: each'");
            }
            Path copy = TestFiles.file("test-catalog-ops-each.yaml");
            Files.createDirectories(copy.getParent());
            // Without customer digests too: the shared tests expect a ticket's status mail at once (TicketDigestTest runs them).
            Files.writeString(copy, LateSentCatalog.of(shipped.replace("ops: digest", "ops: each").replaceAll("(?m)^    digest: .*\n", "")));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
