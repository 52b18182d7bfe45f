package io.herald.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import io.herald.testsupport.HttpSink;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * "SMS outage mid-burst", not a test ({@code mvn -Pbenchmark test -Dbenchmark.scenarios=SmsOutageBenchmark}):
 * agent replies (email, SMS and push each, see {@link BenchmarkCatalog}) posted to the support webhook at a
 * steady rate; in the middle of the load the SMS provider answers 503 for {@code -Dbenchmark.outage}
 * (default PT60S; the case is PT5M), then, second variant, does not answer at all until Herald's
 * call times out. Printed: email, push and SMS deliveries per second and the lag from event to provider
 * request before, during and after the outage, beside the same load without an outage; and whether every
 * SMS was delivered exactly once in the end (parked during the outage, sent after it).
 *
 * <p>Load: {@code -Dbenchmark.rate=40} notifications/s for {@code max(30 s, outage/2)} before and after the
 * outage; provider latency {@code -Dbenchmark.latency=PT0S}; rate limits raised to 5,000/s. The parked
 * deliveries' delays are shortened so the SMS are re-driven during a short run (printed with the figures).
 */
@TestPropertySource(properties = {
        "herald.mail.rate-per-second=5000", "herald.sms.rate-per-second=5000", "herald.push.rate-per-second=5000",
        "herald.mail.max-in-flight=64", "herald.sms.max-in-flight=64", "herald.push.max-in-flight=64",
        "herald.mail.messages-per-connection=1000000"})
class SmsOutageBenchmark extends BenchmarkHerald {

    @DynamicPropertySource
    static void threeChannelsAndShortParkDelays(DynamicPropertyRegistry registry) {
        registry.add("herald.catalog", BenchmarkCatalog::agentRepliedOnAllThreeChannels);
        registry.add("herald.delivery.park-delays", () -> parkDelays(durationSetting("benchmark.outage", "PT60S")));
    }

    /** 5 s, 10 s, 20 s, then every 30 s for the outage and two minutes more: parked SMS outlive the outage, and are re-driven soon after it. */
    static String parkDelays(Duration outage) {
        List<String> delays = new ArrayList<>(List.of("PT5S", "PT10S", "PT20S"));
        for (long covered = 35; covered < outage.toSeconds() + 120; covered += 30) {
            delays.add("PT30S");
        }
        return String.join(",", delays);
    }

    /** Deliveries per second and lag (event accepted -> provider request) of one channel in one window. */
    record Window(double perSecond, long lagP50, long lagP99) {
        @Override
        public String toString() {
            return lagP50 < 0 ? String.format("%6.1f/s  (none)          ", perSecond)
                    : String.format("%6.1f/s  lag %5d/%6d ms", perSecond, lagP50, lagP99);
        }
    }

    @Test
    void emailAndPushKeepTheirRateWhileSmsIsDown() {
        int customers = intSetting("benchmark.customers", 1000);
        int warmup = intSetting("benchmark.warmup", 1500);
        double rate = Double.parseDouble(System.getProperty("benchmark.rate", "40"));
        Duration outage = durationSetting("benchmark.outage", "PT60S");
        Duration side = outage.dividedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? outage.dividedBy(2) : Duration.ofSeconds(30);
        Duration latency = durationSetting("benchmark.latency", "PT0S");
        seedCustomers(customers);
        providers.latency(latency);
        mail.latency(latency);

        System.out.printf("%n===== Herald benchmark: SMS outage mid-burst =====%n"
                        + "load: support.agent_replied (email + SMS + push) at %.0f notifications/s through the support webhook: %ds, then the"
                        + " SMS provider down for %ds, then %ds; providers answer after %d ms; rate limits raised to 5000/s%n"
                        + "settings: sms response timeout %s ms, in-process retries %s, breaker opens at %s%% of the last %s calls for %s s;"
                        + " park delays SHORTENED for the benchmark to %s (shipped: PT1M,PT5M,...); parked poll every %s ms%n",
                rate, side.toSeconds(), outage.toSeconds(), side.toSeconds(), latency.toMillis(),
                setting(settings, "herald.sms.response-timeout-ms"), setting(settings, "herald.delivery.max-retries"),
                setting(settings, "camel.resilience4j.configurations.provider-breaker.failure-rate-threshold"),
                setting(settings, "herald.delivery.breaker.window"), setting(settings, "herald.delivery.breaker.open-seconds"),
                setting(settings, "herald.delivery.park-delays"), setting(settings, "herald.delivery.parked-poll-ms"));
        System.out.printf("warm-up: %d events, not measured%n", warmup);
        String warm = nextRunTag();
        post(warmup, 0, i -> agentReply(warm, i, customers));
        awaitSent("support:agent_replied:" + warm, "", 3L * warmup, Duration.ofMinutes(10));

        Map<String, Window> baseline = run("no outage", rate, side.multipliedBy(2), null, null, customers).get("whole load");
        Map<String, Map<String, Window>> refused = run("SMS provider answers 503", rate, side, outage, HttpSink.Mode.UNAVAILABLE, customers);
        Map<String, Map<String, Window>> hanging = run("SMS provider does not answer (until the call's timeout)", rate, side, outage,
                HttpSink.Mode.HANG, customers);

        System.out.printf("%n===== summary: deliveries/s and lag p50/p99 from event accepted to provider request (%.0f notifications/s offered) =====%n", rate);
        System.out.printf("%-8s %-30s | %-30s | %-30s | %-30s%n", "", "no outage", "before the outage", "during the outage", "after the outage");
        Map<String, Map<String, Map<String, Window>>> variants = new LinkedHashMap<>();
        variants.put("answers 503", refused);
        variants.put("does not answer", hanging);
        for (Map.Entry<String, Map<String, Map<String, Window>>> variant : variants.entrySet()) {
            System.out.printf("SMS provider: %s%n", variant.getKey());
            for (String channel : CHANNELS) {
                System.out.printf("  %-6s %-30s | %-30s | %-30s | %-30s%n", channel, baseline.get(channel),
                        variant.getValue().get("before").get(channel), variant.getValue().get("during").get(channel),
                        variant.getValue().get("after").get(channel));
            }
        }
        assertThat(smsProblems).as("every SMS accepted by the provider exactly once in the end, or UNCERTAIN when its call got no answer")
                .isEmpty();
    }

    private final List<String> smsProblems = new ArrayList<>();

    /**
     * Posts {@code rate} events/s for side + outage + side (or {@code side} alone without an outage), switching the
     * SMS sink to {@code mode} for the outage; prints and returns the per-window figures, and checks every SMS
     * was delivered once in the end.
     */
    private Map<String, Map<String, Window>> run(String name, double rate, Duration side, Duration outage, HttpSink.Mode mode, int customers) {
        String tag = nextRunTag();
        String keys = "support:agent_replied:" + tag;
        Duration load = outage == null ? side : side.plus(outage).plus(side);
        int events = (int) (rate * load.toSeconds());
        AtomicLong outageStart = new AtomicLong();
        AtomicLong outageEnd = new AtomicLong();
        ScheduledExecutorService switcher = Executors.newSingleThreadScheduledExecutor();
        long loadStart = System.currentTimeMillis();
        if (outage != null) {
            switcher.schedule(() -> {
                providers.mode(SMS_PATH, mode);
                outageStart.set(System.currentTimeMillis());
            }, side.toMillis(), TimeUnit.MILLISECONDS);
            switcher.schedule(() -> {
                providers.mode(SMS_PATH, HttpSink.Mode.OK);
                outageEnd.set(System.currentTimeMillis());
            }, side.plus(outage).toMillis(), TimeUnit.MILLISECONDS);
        }
        Map<String, Long> accepted = post(events, rate, i -> agentReply(tag, i, customers));
        long loadEnd = System.currentTimeMillis();
        switcher.shutdown();
        Duration drainCap = Duration.ofMinutes(3).plus(outage == null ? Duration.ZERO : outage.multipliedBy(2));
        boolean emailAndPush = awaitSent(keys, "email", events, drainCap) && awaitSent(keys, "push", events, drainCap);
        boolean sms = awaitSent(keys, "sms", events, drainCap);
        Map<String, Map<String, Long>> requested = firstRequests(accepted.keySet());

        Map<String, long[]> windows = new LinkedHashMap<>();
        if (outage == null) {
            windows.put("whole load", new long[] {loadStart, loadEnd});
        } else {
            windows.put("before", new long[] {loadStart, outageStart.get()});
            windows.put("during", new long[] {outageStart.get(), outageEnd.get()});
            windows.put("after", new long[] {outageEnd.get(), loadEnd});
        }
        Map<String, Map<String, Window>> result = new LinkedHashMap<>();
        windows.forEach((window, span) -> {
            Map<String, Window> perChannel = new LinkedHashMap<>();
            for (String channel : CHANNELS) {
                Map<String, Long> reached = requested.get(channel);
                long count = reached.values().stream().filter(at -> at >= span[0] && at < span[1]).count();
                Map<String, Long> acceptedInWindow = accepted.entrySet().stream().filter(e -> e.getValue() >= span[0] && e.getValue() < span[1])
                        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
                List<Long> lags = latencies(acceptedInWindow, reached);
                perChannel.put(channel, new Window(count / ((span[1] - span[0]) / 1000.0), percentile(lags, 0.5), percentile(lags, 0.99)));
            }
            result.put(window, perChannel);
        });

        System.out.printf("%n--- %s: %d notifications over %d s (%s) ---%n", name, events, load.toSeconds(), machine());
        result.forEach((window, perChannel) -> {
            long[] span = windows.get(window);
            System.out.printf("%-10s (%3d s)%n", window, (span[1] - span[0]) / 1000);
            perChannel.forEach((channel, w) -> System.out.printf("  %-6s %s%n", channel, w));
        });
        if (!emailAndPush) {
            System.out.printf("NOT ALL email/push delivered within %s of the load's end%n", drainCap);
        }

        // Every SMS in the end: accepted (HTTP 200) by the provider exactly once per notification.
        Map<String, Long> smsAccepted = providers.requests(SMS_PATH).stream()
                .filter(r -> r.status() == 200 && r.idempotencyKey() != null && r.idempotencyKey().startsWith(keys))
                .collect(Collectors.groupingBy(HttpSink.Request::idempotencyKey, Collectors.counting()));
        long once = smsAccepted.values().stream().filter(n -> n == 1).count();
        long twice = smsAccepted.values().stream().filter(n -> n > 1).count();
        List<HttpSink.Request> smsDuring = providers.requests(SMS_PATH).stream()
                .filter(r -> r.idempotencyKey() != null && r.idempotencyKey().startsWith(keys) && r.status() != 200).toList();
        System.out.printf("SMS: %d of %d sent by the ledger%s; the provider accepted %d once each, %d more than once, %d never;"
                        + " refused or unanswered calls during the outage: %s%n",
                sent(keys, "sms"), events, sms ? "" : " (NOT ALL within " + drainCap + ")", once, twice, events - once - twice,
                HttpSink.byStatus(smsDuring));
        if (outage != null) {
            long lastSms = providers.requests(SMS_PATH).stream().filter(r -> r.status() == 200 && r.idempotencyKey() != null
                    && r.idempotencyKey().startsWith(keys)).mapToLong(HttpSink.Request::receivedAtMillis).max().orElse(outageEnd.get());
            long heldBack = accepted.entrySet().stream().filter(e -> e.getValue() < outageEnd.get())
                    .map(e -> requested.get("sms").get(e.getKey())).filter(at -> at != null && at >= outageEnd.get()).count();
            System.out.printf("     %d SMS of events accepted before the provider was back reached it only after (held back by the outage and sent"
                    + " after recovery); the last SMS reached it %.0f s after it was back%n", heldBack, (lastSms - outageEnd.get()) / 1000.0);
        }
        // A call the provider took without answering (no answer within the timeout) may have been sent: SMS does not honour an
        // Idempotency-Key (herald.sms.resend-cut-off-calls false), so it is UNCERTAIN, never sent again. Every other SMS once.
        long uncertain = inState(keys, "sms", "UNCERTAIN");
        if (twice != 0 || once + uncertain != events) {
            smsProblems.add(String.format("%s: %d of %d SMS accepted once, %d UNCERTAIN (a call without an answer), %d more than once",
                    name, once, events, uncertain, twice));
        }
        return result;
    }
}
