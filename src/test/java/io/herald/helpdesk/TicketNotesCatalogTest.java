package io.herald.helpdesk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import io.herald.notification.NotificationCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ticket-notes in config/catalog.yaml: off by default, true or a list of outcomes; a bad value names the file and the key. */
class TicketNotesCatalogTest {

    @TempDir
    Path dir;

    @Test
    void theShippedCatalogWritesNotesForAgentRepliesOnly() {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        assertThat(catalog.ticketNotes("support.agent_replied")).containsExactlyInAnyOrderElementsOf(NotificationCatalog.TICKET_NOTE_OUTCOMES);
        assertThat(catalog.ticketNotes("support.ticket_status_changed")).isEmpty();
        assertThat(catalog.ticketNotes().keySet()).containsExactly("support.agent_replied");
    }

    @Test
    void aListChoosesTheOutcomesAndFalseIsOff() throws IOException {
        NotificationCatalog catalog = new NotificationCatalog(write("""
                notifications:
                  support.agent_replied:
                    category: support
                    priority: normal
                    channels: [email]
                    window: PT4H
                    ticket-notes: [sent, bounced, failed]
                  support.ticket_status_changed:
                    category: support
                    priority: normal
                    channels: [email]
                    window: PT4H
                    ticket-notes: false
                """).toString());
        assertThat(catalog.ticketNotes("support.agent_replied")).containsExactlyInAnyOrder("SENT", "BOUNCED", "FAILED");
        assertThat(catalog.ticketNotes("support.ticket_status_changed")).isEmpty();
    }

    @Test
    void aBadValueNamesTheFileAndTheKey() throws IOException {
        Path file = write("""
                notifications:
                  support.agent_replied:
                    category: support
                    priority: normal
                    channels: [email]
                    window: PT4H
                    ticket-notes: [sent, read]
                """);
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessageContaining(file.toString())
                .hasMessageContaining("key 'notifications.support.agent_replied.ticket-notes' has unknown outcome 'read'");
        Path word = write("""
                notifications:
                  support.agent_replied:
                    category: support
                    priority: normal
                    channels: [email]
                    window: PT4H
                    ticket-notes: always
                """);
        assertThatThrownBy(() -> new NotificationCatalog(word.toString()))
                .hasMessageContaining("key 'notifications.support.agent_replied.ticket-notes' must be true");
    }

    @Test
    void theNoteSaysWhatTheCustomerWasToldWithTheAddressMasked() {
        Instant sent = Instant.parse("2026-11-21T14:02:10Z");
        assertThat(TicketNoteText.of("SENT", "email", "j***@example.org", "Your request #35436 is now Solved", null, null, sent, sent))
                .isEqualTo("Customer notified by email (j***@example.org) at 14:02 UTC on 2026-11-21: 'Your request #35436 is now Solved'.");
        assertThat(TicketNoteText.of("BOUNCED", "sms", "+447…0123", null, "Reply from Support Team: call jenny.rosen@example.org",
                "number unknown to the carrier (30005)", sent, Instant.parse("2026-11-21T14:05:00Z")))
                .isEqualTo("Not delivered: the message by SMS (+447…0123) bounced at 14:05 UTC on 2026-11-21: 'Reply from Support Team: call "
                        + "j***@example.org' (sent 14:02): number unknown to the carrier (30005). The customer has not seen it; reach them another way.");
    }

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("catalog-" + System.nanoTime() + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
