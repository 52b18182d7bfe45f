package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.apache.camel.CamelContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Tests that measure counters share Herald with the tests before them, whose last deliveries may
 * still be on their way (the ops webhook is throttled to one post a second, parked deliveries wait
 * for their next attempt). Waiting until nothing is in flight makes "before" and "after" mean this
 * test's events only.
 */
public final class Quiescence {

    private Quiescence() {
    }

    public static void awaitNothingInFlight(CamelContext camel, JdbcTemplate jdbc) {
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() ->
                    camel.getInflightRepository().size("dispatch") == 0
                            && camel.getInflightRepository().size("parked-deliveries") == 0
                            && jdbc.queryForObject("SELECT count(*) FROM delivery WHERE state IN ('PENDING', 'SENDING', 'PARKED')",
                                    Integer.class) == 0
                            && jdbc.queryForObject("SELECT count(*) FROM notification WHERE state = 'RECEIVED'", Integer.class) == 0);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("still in flight after 90 s: " + jdbc.queryForList("""
                    SELECT d.id, d.channel, d.state, d.customer_id, d.next_attempt_at, d.updated_at, n.idempotency_key FROM delivery d
                    JOIN notification n ON n.id = d.notification_id WHERE d.state IN ('PENDING', 'SENDING', 'PARKED') LIMIT 10""")
                    + " notifications RECEIVED: " + jdbc.queryForList(
                    "SELECT id, idempotency_key, updated_at FROM notification WHERE state = 'RECEIVED' LIMIT 10"), e);
        }
    }
}
