package io.herald.local;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The local run's banner tells a newcomer what to type. With Herald and the CRM page moved (8080 taken by something
 * else), the script hints used to stay bare: {@code scripts/post-sample-webhook.sh} posted to 8080, another run or
 * nothing, and the CRM row went to the other run's outbox.
 */
class LocalBannerTest {

    private static final String SANDBOX = "http://localhost:8089";

    @Test
    void onTheDefaultPortsTheScriptsAreTypedAsTheyAre() {
        String banner = LocalHerald.banner("8080", "3025", 8025, 8091, SANDBOX, "localhost:40177", "jdbc:postgresql://localhost:35337/postgres");
        assertThat(banner).contains("  Post a signed sample ticket event:  scripts/post-sample-webhook.sh\n")
                .contains("  A Stripe-signed billing event:      scripts/post-billing-webhook.sh\n")
                .contains("  A row in the CRM outbox:            scripts/insert-crm-outbox-row.sh [")
                .contains("  Mail Herald sent (SMTP on 3025):    http://localhost:8025/\n")
                .contains("  Operations console (failures):      http://localhost:8080/console\n");
    }

    @Test
    void withMovedPortsTheScriptHintsCarryTheMovedAddresses() {
        String banner = LocalHerald.banner("8180", "2525", 8125, 8191, "http://localhost:8189", "localhost:40177", "jdbc:postgresql://localhost:35337/postgres");
        assertThat(banner)
                .contains("scripts/post-sample-webhook.sh src/test/resources/samples/support/ticket.status_changed.json http://localhost:8180\n")
                .contains("scripts/post-billing-webhook.sh src/test/resources/samples/billing/invoice.payment_failed.json http://localhost:8180\n")
                .contains("LOCAL_CRM_URL=http://localhost:8191 scripts/insert-crm-outbox-row.sh [")
                .contains("  Mail Herald sent (SMTP on 2525):    http://localhost:8125/\n")
                .contains("http://localhost:8180/console").contains("http://localhost:8180/actuator/hawtio")
                .contains("http://localhost:8189/__admin/requests").doesNotContain("8080");
    }
}
