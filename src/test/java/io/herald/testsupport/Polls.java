package io.herald.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.NotifyBuilder;

/**
 * Proof that a periodic poll of a running Herald ran, for "nothing more happened" checks: a test asserts
 * after polls that provably ran, not after a fixed wait that only hopes some did.
 */
public final class Polls {

    private Polls() {
    }

    /**
     * Runs the poll a timer route hands its work to ({@code direct:...}, e.g. direct:signature-failure-alert) {@code times}
     * times, one after the other, on the caller's thread, as the timer does; returns once they have all finished. Only for
     * polls written to run on several instances at once (their own transaction), since the timer may run one meanwhile.
     */
    public static void runNow(CamelContext camel, String entry, int times) {
        ProducerTemplate template = camel.createProducerTemplate();
        try {
            for (int i = 0; i < times; i++) {
                template.requestBody(entry, (Object) null);
            }
        } finally {
            template.stop();
        }
    }

    /**
     * Waits until the timer route {@code routeId} has finished {@code polls} whole polls that began after this call (one
     * more poll is counted than asked for: the one under way when it was called may end first).
     */
    public static void awaitWhole(CamelContext camel, String routeId, int polls, Duration atMost) {
        NotifyBuilder done = new NotifyBuilder(camel).fromRoute(routeId).whenDone(polls + 1).create();
        try {
            assertThat(done.matches(atMost.toMillis(), TimeUnit.MILLISECONDS))
                    .as("%d polls of route %s within %s", polls, routeId, atMost).isTrue();
        } finally {
            done.destroy();   // its event notifier would otherwise stay on the (possibly shared) context
        }
    }

    /**
     * Waits until the Herald's first retention run is over (its timer fires herald.retention.first-run-delay-ms after the
     * start, then hourly): a test that drops partitions itself would otherwise meet that run as a third instance dropping
     * the same month.
     */
    public static void afterFirstRetentionRun(CamelContext camel) {
        long firstRun = Long.parseLong(camel.getPropertiesComponent().resolveProperty("herald.retention.first-run-delay-ms").orElse("60000"));
        org.awaitility.Awaitility.await().atMost(Duration.ofMillis(firstRun).plusSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                camel.getUptime().toMillis() > firstRun + 5000 && camel.getInflightRepository().size("retention-timer") == 0
                        && camel.getInflightRepository().size("retention") == 0);
    }
}
