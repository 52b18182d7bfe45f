package io.herald.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog's approval key: "required" or a threshold {field, above}, which notifications it holds and why (in
 * words), and a wrong value stopping startup with config/catalog.yaml's path and the key at fault.
 */
class ApprovalCatalogTest {

    @TempDir
    Path dir;

    @Test
    void theShippedRefundTypeIsHeldAboveItsThresholdOnly() {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        NotificationCatalog.Entry refunds = catalog.entry("billing.refund_issued");
        assertThat(Approvals.holdReason(refunds, refund("1250.00 GBP")))
                .isEqualTo("billing.refund_issued with amountRefunded 1250.00 GBP is above the approval threshold 1000 GBP (config/catalog.yaml)");
        assertThat(Approvals.holdReason(refunds, refund("1000.00 GBP"))).isNull();
        assertThat(Approvals.holdReason(refunds, refund("49.99 GBP"))).isNull();
        assertThat(Approvals.holdReason(refunds, refund("1000.01 EUR"))).contains("above the approval threshold 1000 EUR");
        // 1000 means little in yen and much in dinars: a currency the catalog gives no threshold is held, saying so.
        assertThat(Approvals.holdReason(refunds, refund("5000 JPY")))
                .isEqualTo("billing.refund_issued with amountRefunded 5000 JPY has no approval threshold for JPY (config/catalog.yaml"
                        + " lists GBP, EUR, USD): held for a person to decide");
        assertThat(Approvals.holdReason(refunds, refund("999.000 KWD"))).contains("no approval threshold for KWD");
        // When in doubt, a person decides.
        assertThat(Approvals.holdReason(refunds, refund("about a thousand")))
                .isEqualTo("billing.refund_issued needs an approver above 1000 GBP, 1000 EUR, 1000 USD in data.amountRefunded, and this"
                        + " one's amountRefunded is not a number (about a thousand): held for a person to decide");
        assertThat(Approvals.holdReason(refunds, refund(null))).contains("this one's amountRefunded is missing");
        // The other shipped types need no approval.
        assertThat(Approvals.holdReason(catalog.entry("billing.charge_refunded"), refund("99999.00 GBP"))).isNull();
    }

    @Test
    void requiredHoldsEveryNotificationOfTheType() throws IOException {
        NotificationCatalog catalog = new NotificationCatalog(write("approval: required").toString());
        assertThat(Approvals.holdReason(catalog.entry("legal.terms_changed"), notification("legal.terms_changed", null)))
                .isEqualTo("every legal.terms_changed notification needs an approver (config/catalog.yaml: approval: required)");
    }

    @Test
    void aWrongApprovalStopsStartupNamingTheFileAndTheKey() throws IOException {
        assertRefused("approval: yes please", "key 'notifications.legal.terms_changed.approval' must be 'required' or a threshold"
                + " {field: <data field>, above: <number, or one per currency>}, e.g. {field: amountRefunded, above: 1000} or"
                + " {field: amountRefunded, above: {GBP: 1000, JPY: 150000}}; was 'yes please'");
        assertRefused("approval: {field: amount, above: {gbp: 1000}}",
                "key 'notifications.legal.terms_changed.approval.above.gbp' must be an ISO currency code in capitals");
        assertRefused("approval: {field: amount, above: {GBP: lots}}",
                "key 'notifications.legal.terms_changed.approval.above.GBP' must be a number (e.g. 1000), was 'lots'");
        assertRefused("approval: {above: 1000}", "key 'notifications.legal.terms_changed.approval.field' is required");
        assertRefused("approval: {field: amount, above: lots}", "key 'notifications.legal.terms_changed.approval.above' must be a number"
                + " (e.g. 1000), was 'lots'");
        assertRefused("approval: {field: amount, over: 10}", "key 'notifications.legal.terms_changed.approval.over' is not a setting of approval");
    }

    @Test
    void anApprovedTypeCannotPostItsOpsWebhookInADigest() throws IOException {
        Path file = dir.resolve("ops.yaml");
        Files.writeString(file, """
                notifications:
                  legal.terms_changed:
                    category: legal
                    priority: normal
                    channels: [email, ops_webhook]
                    window: P3D
                    approval: required
                """);
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessageContaining("Notification catalog " + file)
                .hasMessageContaining("key 'notifications.legal.terms_changed.ops' must be 'each' for a type that requires approval");
    }

    private void assertRefused(String approval, String expected) throws IOException {
        Path file = write(approval);
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessageContaining("Notification catalog " + file)
                .hasMessageContaining(expected);
    }

    private Path write(String approval) throws IOException {
        Path file = Files.createTempFile(dir, "catalog", ".yaml");
        Files.writeString(file, """
                notifications:
                  legal.terms_changed:
                    category: legal
                    priority: normal
                    channels: [email]
                    window: P3D
                    %s
                """.formatted(approval));
        return file;
    }

    private static CanonicalNotification refund(String amount) {
        return notification("billing.refund_issued", amount);
    }

    private static CanonicalNotification notification(String type, String amount) {
        java.util.Map<String, Object> data = new java.util.HashMap<>();
        data.put("amountRefunded", amount);
        return new CanonicalNotification("billing:refund:1", "billing", "evt_1", type, "cus_1", java.time.Instant.parse("2026-11-21T10:00:00Z"),
                Map.of(), data, "normal");
    }
}
