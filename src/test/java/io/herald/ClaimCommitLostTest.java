package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.CommitAckCutter;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.Samples;
import io.herald.testsupport.WithoutQuietHours;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A lost COMMIT acknowledgement at the claim (a fault test against the real PostgreSQL): Herald's own database connection
 * goes through {@link CommitAckCutter}, which lets the claim of a delivery for sending commit in PostgreSQL and then cuts
 * the connection before Herald hears of it. Camel tries the claim again once the database answers, with the attempt's
 * claim token; the row is SENDING under that token, so the claim is taken again and the mail goes out once, SENT. (With a
 * fresh token each try, the retry found the row "already SENDING", sent nothing, and the row waited for the stale sweep to
 * call the email UNCERTAIN.)
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class ClaimCommitLostTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final CommitAckCutter cutter = startedCutter();
    /** The claim of deliveries for sending (DeliveryLedger.CLAIM_FOR_SENDING). */
    private static final String CLAIM = "INSERT INTO delivery (notification_id, channel, state, recipient_masked, attempts, claim_token)";

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void throughTheCutter(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "claim-commit-lost");
        registry.add("herald.db.url", () -> cutter.through(infra.database("claim_commit_lost")));
        registry.add("herald.catalog", () -> WithoutQuietHours.shipped().toString());   // sent at once, at any hour
    }

    private static CommitAckCutter startedCutter() {
        try {
            return CommitAckCutter.inFrontOf(infra.database("claim_commit_lost"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stopCutter() throws IOException {
        cutter.close();
    }

    @Test
    void aClaimWhoseCommitAcknowledgementIsLostIsTakenAgainAndMailedOnce() throws Exception {
        OwnHeraldClient herald = new OwnHeraldClient(infra, port, jdbc);
        String customer = herald.insertCustomer("cus_cut_" + UUID.randomUUID().toString().substring(0, 8), "Cora Cut", null, null, null);
        String charge = "ch_cut" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String key = "billing:charge.refunded:" + charge + ":4200";

        cutter.armFor(sql -> sql.contains(CLAIM));
        herald.postBilling(Samples.text("billing/charge.refunded.json")
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_cut" + UUID.randomUUID().toString().replace("-", ""))
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge)
                .replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("12999", "4200")
                .replace("\"created\": 1763730000", "\"created\": " + Instant.now().getEpochSecond()));

        MimeMessage mail = herald.awaitMailFor(key);
        assertThat(mail.getAllRecipients()[0].toString()).isEqualTo(customer + "@example.com");
        assertThat(cutter.cuts()).as("the claim's COMMIT acknowledgement was cut").isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(key, "email").get("state")));
        assertThat(((Number) herald.delivery(key, "email").get("attempts")).intValue()).as("the claim, and its retry under the same token")
                .isEqualTo(2);
        assertThat(herald.mailsFor(key)).hasSize(1);
    }
}
