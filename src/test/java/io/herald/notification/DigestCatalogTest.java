package io.herald.notification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog's digest key (issue 14 point 6): read per type, and a bad one stops startup naming the file and the key. */
class DigestCatalogTest {

    @TempDir
    Path dir;

    @Test
    void aDigestWindowIsReadPerTypeAndOtherTypesHaveNone() throws IOException {
        NotificationCatalog catalog = new NotificationCatalog(write(ticketStatus("    digest: {window: PT2M, key: ticketId}\n")).toString());
        assertThat(catalog.digest("support.ticket_status_changed")).isEqualTo(new NotificationCatalog.Digest(Duration.ofMinutes(2), "ticketId"));
        assertThat(catalog.digest("support.agent_replied")).isNull();
        NotificationCatalog shipped = new NotificationCatalog("config/catalog.yaml");
        assertThat(shipped.digest("support.ticket_status_changed")).isEqualTo(new NotificationCatalog.Digest(Duration.ofMinutes(2), "ticketId"));
        assertThat(shipped.digest("billing.payment_failed")).isNull();
    }

    @Test
    void aBrokenDigestNamesTheFileAndTheKey() throws IOException {
        assertRefused(ticketStatus("    digest: PT2M\n"),
                "key 'notifications.support.ticket_status_changed.digest' must be {window: <ISO-8601 duration>, key: <data field>}");
        assertRefused(ticketStatus("    digest: {key: ticketId}\n"),
                "key 'notifications.support.ticket_status_changed.digest.window' is required");
        assertRefused(ticketStatus("    digest: {window: two minutes, key: ticketId}\n"),
                "key 'notifications.support.ticket_status_changed.digest.window' must be an ISO-8601 duration such as PT2M, was 'two minutes'");
        assertRefused(ticketStatus("    digest: {window: P2D, key: ticketId}\n"),
                "key 'notifications.support.ticket_status_changed.digest.window' must be at least PT1S and shorter than the type's window (PT24H)");
        assertRefused(ticketStatus("    digest: {window: PT2M}\n"),
                "key 'notifications.support.ticket_status_changed.digest.key' is required: the data field the events are grouped by");
        assertRefused(ticketStatus("    digest: {window: PT2M, key: ticketId, max: 10}\n"),
                "key 'notifications.support.ticket_status_changed.digest.max' is not a setting of digest");
        assertRefused(ticketStatus("    digest: {window: PT2M, key: ticketId}\n    approval: required\n"),
                "key 'notifications.support.ticket_status_changed.digest' cannot be used with approval");
        assertRefused("""
                notifications:
                  ops.only:
                    category: ops
                    priority: normal
                    channels: [ops_webhook]
                    window: PT1H
                    digest: {window: PT2M, key: ticketId}
                """, "key 'notifications.ops.only.digest' needs a customer channel");
    }

    private static String ticketStatus(String digest) {
        return """
                notifications:
                  support.ticket_status_changed:
                    category: support
                    priority: normal
                    channels: [email, in_app]
                    window: PT24H
                """ + digest + """
                  support.agent_replied:
                    category: support
                    priority: normal
                    channels: [email]
                    window: PT4H
                """;
    }

    private Path write(String yaml) throws IOException {
        Path file = Files.createTempFile(dir, "catalog", ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private void assertRefused(String yaml, String expected) throws IOException {
        Path file = write(yaml);
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessageContaining("Notification catalog " + file)
                .hasMessageContaining(expected);
    }
}
