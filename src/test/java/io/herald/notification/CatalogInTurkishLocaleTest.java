package io.herald.notification;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.herald.testsupport.HostileLocale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog reads the same in a container run with LANG=tr_TR.UTF-8: "ticket-notes: [failed, uncertain]" stopped
 * startup there ("has unknown outcome 'failed'; must be ... a list of outcomes from [sent, delivered, bounced,
 * undelıvered, complaıned, faıled, uncertaın]"), the outcomes having been lower-cased in Turkish (dotless ı).
 */
class CatalogInTurkishLocaleTest {

    @RegisterExtension
    static final HostileLocale TURKISH = new HostileLocale("tr-TR", "Europe/Istanbul");

    @TempDir
    Path dir;

    @Test
    void ticketNoteOutcomesWithAnIAreKnownInATurkishLocale() throws IOException {
        Path file = dir.resolve("catalog.yaml");
        Files.writeString(file, """
                notifications:
                  support.agent_replied:
                    category: support
                    priority: normal
                    channels: [email]
                    window: PT4H
                    ticket-notes: [sent, failed, uncertain, undelivered, complained]
                """);
        NotificationCatalog catalog = new NotificationCatalog(file.toString());
        assertThat(catalog.ticketNotes("support.agent_replied"))
                .containsExactlyInAnyOrder("SENT", "FAILED", "UNCERTAIN", "UNDELIVERED", "COMPLAINED");
    }
}
