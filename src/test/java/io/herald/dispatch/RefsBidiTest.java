package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;
import org.junit.jupiter.api.Test;

/** Bidi overrides are taken out of every value a template prints, the refs ({{orderId}}) too. */
class RefsBidiTest {

    @Test
    void aRefPrintedByATemplateLosesItsBidiOverrideToo() {
        Customer jenny = new Customer("cus_jenny", "Jenny Rosen", "jenny@example.org", null, List.of(), "en-GB", "Europe/London", Map.of());
        CanonicalNotification refund = new CanonicalNotification("billing:charge.refunded:ch_1:100", "billing", "evt_1",
                "billing.charge_refunded", "cus_jenny", Instant.parse("2026-11-21T10:00:00Z"),
                Map.of("orderId", "ORD-1\u202Efdp.exe\u202C"), Map.of("amountRefunded", "1.00 GBP"), "normal");
        Map<String, Object> context = MessageContext.of(refund, jenny, Locale.UK);
        assertThat((String) context.get("orderId")).doesNotContain("\u202E");
    }
}
