package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.herald.config.IngestSettings;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The time limit on one mapping, on a real Camel context: a mapping that runs past it fails its event at once while it
 * goes on running; a mapping's own failure is thrown as it was; and mappings stopped waiting for never pile up beyond
 * herald.ingest.mapping-overruns-max: the next event waits for one to end, and is then mapped, not quarantined.
 */
class MappingTimeLimitTest {

    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch releaseOther = new CountDownLatch(1);
    private DefaultCamelContext camel;
    private MappingTimeLimit limit;

    @BeforeEach
    void start() throws Exception {
        camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                errorHandler(noErrorHandler());
                // A mapping that runs until the test releases it (as a runaway recursion runs until it ends by itself).
                from("direct:held").process(e -> {
                    release.await(60, TimeUnit.SECONDS);
                    e.getMessage().setBody("late " + e.getMessage().getBody());
                });
                from("direct:held-other").process(e -> {
                    releaseOther.await(60, TimeUnit.SECONDS);
                    e.getMessage().setBody("late " + e.getMessage().getBody());
                });
                from("direct:quick").routeId("quick").process(e -> e.getMessage().setBody("mapped " + e.getMessage().getBody()));
                from("direct:failing").process(e -> {
                    throw new IllegalArgumentException("billing event evt_1 has no customer");
                });
            }
        });
        camel.start();
        limit = new MappingTimeLimit(settings(1), camel.createProducerTemplate());
    }

    @AfterEach
    void stop() {
        release.countDown();
        releaseOther.countDown();
        limit.stop();
        camel.stop();
    }

    @Test
    void aMappingPastTheLimitFailsItsEventAtOnceNamingTheMappingAndTheLimit() {
        Exchange event = event("{\"id\": \"evt_slow\"}");
        long started = System.nanoTime();
        Throwable stopped = catchThrowable(() -> limit.map(event, "direct:held", "PT1S"));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        assertThat(stopped).isInstanceOf(MappingTimedOut.class);
        assertThat(MappingErrors.readable(stopped, "mapping", "billing", "evt_slow", null))
                .isEqualTo("mapping failed: billing event evt_slow: the mapping datasonnet/billing-stripe.ds took longer than 1 s for"
                        + " this event (herald.ingest.mapping-time-limit) and was stopped waiting for, so the source's next events"
                        + " were not held up: check the mapping for a loop or a recursion that depends on the event's data, then"
                        + " re-drive the event from the console");
    }

    @Test
    void aMappingWithinTheLimitGivesItsOutputAndAMappingsOwnFailureIsThrownAsItWas() throws Exception {
        Exchange event = event("{}");
        limit.map(event, "direct:quick", "PT1S");
        assertThat(event.getMessage().getBody(String.class)).isEqualTo("mapped {}");
        assertThatThrownBy(() -> limit.map(event("{}"), "direct:failing", "PT1S")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("billing event evt_1 has no customer");
    }

    @Test
    void withAsManyStoppedMappingsRunningAsAllowedTheNextEventWaitsForOneToEndAndIsThenMapped() throws Exception {
        assertThatThrownBy(() -> limit.map(event("{}"), "direct:held", "PT1S")).isInstanceOf(MappingTimedOut.class);
        Exchange next = event("{\"id\": \"evt_next\"}");
        CompletableFuture<Void> mapped = CompletableFuture.runAsync(() -> {
            try {
                limit.map(next, "direct:quick", "PT1S");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // One stopped mapping runs, and one is the most allowed here: the next event waits (more than its own limit) ...
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> !mapped.isDone());
        // ... until that one ends; then it is mapped, not failed.
        release.countDown();
        mapped.get(30, TimeUnit.SECONDS);
        assertThat(next.getMessage().getBody(String.class)).isEqualTo("mapped {\"id\": \"evt_next\"}");
    }

    /**
     * An operator stopped the mapping route (Hawtio) and herald.ingest.mapping-time-limit is shorter than Camel's wait for a
     * stopped route (30 s; 2 s here): the event is not quarantined as a mapping that "took longer than 1 s" (MappingTimedOut)
     * but waits for the route, as d489e63 says (ingest-errors retries DirectConsumerNotAvailableException), and the waiting
     * takes no place of a runaway mapping: once the route is started the next event is mapped at once.
     */
    @Test
    void aStoppedMappingRouteIsWaitedForNotQuarantinedAsAMappingThatRanTooLong() throws Exception {
        camel.getRouteController().stopRoute("quick");
        Throwable stopped = catchThrowable(() -> limit.map(event("{}"), "direct:quick?timeout=2000", "PT1S"));
        assertThat(stopped).isInstanceOf(org.apache.camel.component.direct.DirectConsumerNotAvailableException.class);
        camel.getRouteController().startRoute("quick");
        Exchange next = event("{\"id\": \"evt_next\"}");
        long started = System.nanoTime();
        limit.map(next, "direct:quick?timeout=2000", "PT1S");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
        assertThat(next.getMessage().getBody(String.class)).isEqualTo("mapped {\"id\": \"evt_next\"}");
    }

    /**
     * Two sources' consumers map at the same time, and both mappings run away. With one stopped mapping allowed
     * (herald.ingest.mapping-overruns-max), only one of them is stopped waiting for; the other consumer waits, as if the
     * allowance were used up already, rather than leaving a second runaway evaluation to take a CPU of its own.
     */
    @Test
    void twoMappingsRunningAwayAtOnceNeverLeaveMoreStoppedMappingsRunningThanAllowed() throws Exception {
        Exchange first = event("{\"id\": \"evt_a\"}");
        Exchange second = event("{\"id\": \"evt_b\"}");
        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> mapOrFail(first, "direct:held"));
        CompletableFuture<Void> b = CompletableFuture.runAsync(() -> mapOrFail(second, "direct:held-other"));
        // One is stopped waiting for (its event failed) ...
        await().atMost(Duration.ofSeconds(10)).until(() -> a.isDone() || b.isDone());
        // ... and the other is not, while that one still runs: one stopped mapping running, as allowed.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> !(a.isDone() && b.isDone()));
        boolean firstStopped = a.isDone();
        assertThat(catchThrowable((firstStopped ? a : b)::join)).hasCauseInstanceOf(MappingTimedOut.class);
        // The waiting one's evaluation ends (the stopped one still runs): its event has the mapping's output.
        (firstStopped ? releaseOther : release).countDown();
        (firstStopped ? b : a).get(30, TimeUnit.SECONDS);
        assertThat((firstStopped ? second : first).getMessage().getBody(String.class)).startsWith("late {");
    }

    private void mapOrFail(Exchange event, String route) {
        try {
            limit.map(event, route, "PT1S");
        } catch (Exception e) {
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
    }

    private Exchange event(String body) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setBody(body);
        exchange.setProperty(NotificationIntake.MAPPING, "datasonnet/billing-stripe.ds");
        exchange.setProperty(NotificationIntake.SOURCE, "billing");
        return exchange;
    }

    private static IngestSettings settings(int overrunsMax) {
        return new IngestSettings(500, 50, 100, 1_048_576, 2_097_152, 3000, 2000, 4000, Duration.ofSeconds(30), overrunsMax);
    }
}
