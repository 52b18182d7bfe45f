package io.herald.notification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog's late-message keys (late, valid-until): the shipped policies, and a wrong entry stopping startup with file and key. */
class LatePolicyCatalogTest {

    @TempDir
    Path dir;

    @Test
    void theShippedCatalogDropsLatePaymentRetryNoticesAndSendsOtherTypesLate() {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        assertThat(catalog.latePolicy("billing.payment_failed")).isEqualTo(new NotificationCatalog.LatePolicy("drop", "nextPaymentAttempt"));
        assertThat(catalog.latePolicy("billing.invoice_paid")).isEqualTo(NotificationCatalog.LatePolicy.SEND);
        assertThat(catalog.latePolicy("billing.invoice_paid").sendsLate()).isTrue();
    }

    @Test
    void aWrongLatePolicyNamesTheFileAndTheKey() throws IOException {
        assertRefused(entry("    late: later\n"), "key 'notifications.billing.payment_failed.late' must be one of [send, drop, hold]");
        assertRefused(entry("    late: drop\n    valid-until: next payment\n"),
                "key 'notifications.billing.payment_failed.valid-until' must name one field of the notification's data");
        assertRefused(entry("    valid-until: nextPaymentAttempt\n"), "key 'notifications.billing.payment_failed.valid-until' needs late: drop"
                + " or late: hold: with late: send a message past data.nextPaymentAttempt would go out as if that time were still to come");
        assertRefused(entry("    channels: [email, ops_webhook]\n    late: hold\n"),
                "key 'notifications.billing.payment_failed.ops' must be 'each' for a type with late: hold");
    }

    @Test
    void holdWithOneOpsPostPerNotificationLoads() throws IOException {
        Path file = dir.resolve("catalog.yaml");
        Files.writeString(file, entry("    channels: [email, ops_webhook]\n    ops: each\n    late: hold\n"));
        assertThat(new NotificationCatalog(file.toString()).latePolicy("billing.payment_failed").late()).isEqualTo("hold");
    }

    private static String entry(String extra) {
        String base = "notifications:\n  billing.payment_failed:\n    category: billing\n    priority: high\n    window: PT1H\n";
        return extra.contains("channels:") ? base + extra : base + "    channels: [email]\n" + extra;
    }

    private void assertRefused(String yaml, String message) throws IOException {
        Path file = dir.resolve("catalog.yaml");
        Files.writeString(file, yaml);
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Notification catalog " + file)
                .hasMessageContaining(message);
    }
}
