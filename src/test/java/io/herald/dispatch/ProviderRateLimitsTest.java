package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import io.herald.kafka.InfrastructureFaults;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.mock.env.MockEnvironment;

/**
 * Provider rate limits hold across instances: two ProviderRateLimits, each over its own connection
 * pool (as two Herald instances on one database), with several sender threads each, never grant more
 * than a channel's rate in any second together, and still grant close to it.
 */
class ProviderRateLimitsTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static EmbeddedPostgres postgres;
    private static final List<HikariDataSource> pools = new ArrayList<>();

    @BeforeAll
    static void database() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
        Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration").load().migrate();
    }

    @AfterAll
    static void stop() throws IOException {
        pools.forEach(HikariDataSource::close);
        postgres.close();
    }

    @Test
    void twoInstancesTogetherNeverExceedTheChannelRateInAnySecond() throws InterruptedException {
        ProviderRateLimits first = new ProviderRateLimits(pool(), rates(Map.of("sms", 20)));
        ProviderRateLimits second = new ProviderRateLimits(pool(), rates(Map.of("sms", 20)));

        Queue<Grant> firstGrants = new ConcurrentLinkedQueue<>();
        Queue<Grant> secondGrants = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        run(5, List.of(new Sender(first, "sms", firstGrants), new Sender(second, "sms", secondGrants)));
        double seconds = (System.nanoTime() - start) / (double) SECOND;

        List<Grant> all = new ArrayList<>(firstGrants);
        all.addAll(secondGrants);
        int busiest = busiestSecond(all);
        System.out.printf("Rate 20/s, two instances x 3 senders, %.1f s: %d + %d = %d permits (%.1f/s), at most %d in any 1-second window,"
                + " 21 permits span at least %d ms%n", seconds, firstGrants.size(), secondGrants.size(), all.size(), all.size() / seconds,
                busiest, shortestSpan(all, 21) / 1_000_000);
        assertThat(busiest).as("permits in the busiest 1-second window, both instances together").isLessThanOrEqualTo(20);
        assertThat(all.size()).as("permits in %.1f s: the limiter lets the rate through, not just refuses", seconds)
                .isGreaterThanOrEqualTo((int) (0.8 * 20 * seconds));
        assertThat(firstGrants).as("the first instance's share").isNotEmpty();
        assertThat(secondGrants).as("the second instance's share").isNotEmpty();
    }

    @Test
    void reservedPermitsKeepTheRateAcrossTwoInstancesWithFewerRoundTripsThanPermits() throws InterruptedException {
        ProviderRateLimits firstLimits = new ProviderRateLimits(pool(), rates(Map.of("in_app", 20)));   // in_app: no other test here uses its bucket
        ProviderRateLimits secondLimits = new ProviderRateLimits(pool(), rates(Map.of("in_app", 20)));
        ProviderPermits first = new ProviderPermits(firstLimits);
        ProviderPermits second = new ProviderPermits(secondLimits);
        Queue<Grant> firstSends = new ConcurrentLinkedQueue<>();
        Queue<Grant> secondSends = new ConcurrentLinkedQueue<>();
        long deadline = System.nanoTime() + 5 * SECOND;
        long start = System.nanoTime();
        ExecutorService threads = Executors.newFixedThreadPool(12);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        try {
            for (int thread = 0; thread < 12; thread++) {
                ProviderPermits permits = thread % 2 == 0 ? first : second;
                Queue<Grant> sends = thread % 2 == 0 ? firstSends : secondSends;
                threads.execute(() -> {
                    try {
                        while (System.nanoTime() < deadline) {
                            permits.acquire("in_app");          // a sender thread's rate-limit step: returns at its permit's instant
                            long sent = System.nanoTime();
                            sends.add(new Grant(sent, sent));
                        }
                    } catch (RuntimeException failure) {
                        failures.add(failure);
                    }
                });
            }
            threads.shutdown();
            assertThat(threads.awaitTermination(20, TimeUnit.SECONDS)).as("senders stopped").isTrue();
        } finally {
            threads.shutdownNow();
        }
        assertThat(failures).as("sender failures").isEmpty();
        double seconds = (System.nanoTime() - start) / (double) SECOND;
        List<Grant> all = new ArrayList<>(firstSends);
        all.addAll(secondSends);
        long roundTrips = firstLimits.databaseRoundTrips() + secondLimits.databaseRoundTrips();
        int busiest = busiestSecond(all);
        System.out.printf("Reserved permits, rate 20/s, two instances x 6 senders, %.1f s: %d sends (%.1f/s), at most %d in any 1-second"
                + " window, %d database round trips%n", seconds, all.size(), all.size() / seconds, busiest, roundTrips);
        assertThat(busiest).as("sends in the busiest 1-second window, both instances together").isLessThanOrEqualTo(20);
        assertThat(all.size()).as("sends in %.1f s: the rate goes through", seconds).isGreaterThanOrEqualTo((int) (0.8 * 20 * seconds));
        assertThat(firstSends).as("the first instance's share").isNotEmpty();
        assertThat(secondSends).as("the second instance's share").isNotEmpty();
        assertThat(roundTrips).as("transactions on the shared bucket: a reservation serves several waiting senders")
                .isLessThan(all.size() / 2);
        // The bucket lent permits ahead of its refill: start the other tests that use in_app from a fresh bucket.
        try (HikariDataSource pool = pool(); java.sql.Connection connection = pool.getConnection();
             java.sql.Statement statement = connection.createStatement()) {
            statement.executeUpdate("DELETE FROM rate_limit_gcra WHERE channel = 'in_app'");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRateChangedAtRestartReplacesTheStoredOneForEveryInstance() throws InterruptedException {
        ProviderRateLimits before = new ProviderRateLimits(pool(), rates(Map.of("email", 20)));
        Queue<Grant> at20 = new ConcurrentLinkedQueue<>();
        run(1, List.of(new Sender(before, "email", at20)));

        // A second instance starts with email lowered to 5/s; its first take replaces the stored configuration.
        ProviderRateLimits restarted = new ProviderRateLimits(pool(), rates(Map.of("email", 5)));
        Queue<Grant> at5 = new ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        if (restarted.take("email", 1) == 1) {
            at5.add(new Grant(start, System.nanoTime()));
        }
        // The instance started earlier keeps running with 20 in its configuration: the stored bucket (5/s) decides for it too.
        Queue<Grant> olderInstance = new ConcurrentLinkedQueue<>();
        run(3, List.of(new Sender(before, "email", olderInstance), new Sender(restarted, "email", at5)));
        double seconds = (System.nanoTime() - start) / (double) SECOND;

        List<Grant> after = new ArrayList<>(at5);
        after.addAll(olderInstance);
        int busiest = busiestSecond(after);
        System.out.printf("Email at 20/s for 1 s: %d permits; restarted at 5/s, %.1f s: %d (restarted instance) + %d (older instance),"
                + " at most %d in any 1-second window%n", at20.size(), seconds, at5.size(), olderInstance.size(), busiest);
        assertThat(busiestSecond(new ArrayList<>(at20))).as("permits in one second at 20/s: more than the new rate allows").isGreaterThan(5);
        assertThat(busiest).as("permits in the busiest second after the restart at 5/s").isLessThanOrEqualTo(5);
        // At most 1 + 5 / 1.1 per second; a loaded machine wakes the senders late, so the sanity bound is lower here.
        assertThat(after.size()).as("permits in %.1f s at 5/s", seconds).isGreaterThanOrEqualTo((int) (0.6 * 5 * seconds));
        assertThat(olderInstance).as("the older instance still gets its share").isNotEmpty();
    }

    @Test
    void aPermitTakenIsGoneForEveryInstanceUntilTheRefill() {
        ProviderRateLimits first = new ProviderRateLimits(pool(), rates(Map.of("ops_webhook", 1, "in_app", 200)));
        ProviderRateLimits second = new ProviderRateLimits(pool(), rates(Map.of("ops_webhook", 1, "in_app", 200)));

        // Both pools connected first, so that the sequence below takes milliseconds, far less than the 1.1 s refill.
        first.take("in_app", 1);
        second.take("in_app", 1);
        long start = System.nanoTime();
        assertThat(first.take("ops_webhook", 1)).isEqualTo(1);
        assertThat(first.take("ops_webhook", 1)).as("the one permit of this second is gone").isZero();
        assertThat(second.take("ops_webhook", 1)).as("for the other instance too").isZero();
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        long refillMillis = first.refillPeriod().toMillis();
        assertThat(refillMillis).as("one second plus the default herald.delivery.rate-limit-margin-ms").isEqualTo(1100);
        assertThat(first.millisUntilNext("ops_webhook")).as("the next permit, 1.1 s after the first, without asking the database")
                .isBetween(refillMillis - elapsedMillis - 2, refillMillis);

        // A take grants at most a twentieth of the rate at once (200/s: 10), so a second's worth is never spent in one go.
        assertThat(first.maxPerTake("in_app")).isEqualTo(10);
        assertThat(first.take("in_app", 50)).isBetween(8, 10);
    }

    @Test
    void permitsForSendersOnTheirWayAreTakenOnlyFromWhatTheBucketHoldsNow() {
        HikariDataSource pool = pool();
        new org.springframework.jdbc.core.JdbcTemplate(pool).update("DELETE FROM rate_limit_gcra WHERE channel = 'email'");   // a full bucket
        ProviderRateLimits limits = new ProviderRateLimits(pool, rates(Map.of("email", 200)));   // capacity 10
        Duration ahead = Duration.ofSeconds(2);

        assertThat(limits.reserve("email", 2, 5, ahead)).as("a full bucket: the 2 wanted and 5 more, all usable now").hasSize(7);
        long[] whatIsLeft = limits.reserve("email", 2, 50, ahead);
        assertThat(whatIsLeft.length).as("the 2 wanted and what the bucket still held (3, and what refilled meanwhile), not 50 more")
                .isBetween(3, 10);
        assertThat(whatIsLeft).as("none of them lent ahead: all usable at once").containsOnly(whatIsLeft[0]);

        assertThat(limits.reserve("email", 100, ahead)).as("a reservation that puts the bucket half a second in debt").hasSize(100);
        long[] inDebt = limits.reserve("email", 2, 50, ahead);
        assertThat(inDebt).as("an empty bucket lends the 2 wanted ahead and nothing for the others").hasSize(2);
        assertThat(inDebt[1]).as("lent ahead: later than now").isGreaterThan(ProviderRateLimits.wallClockNanos());
        // The row deleted by hand while the instance runs: made again at the next reservation (a full bucket).
        new org.springframework.jdbc.core.JdbcTemplate(pool).update("DELETE FROM rate_limit_gcra WHERE channel = 'email'");
        assertThat(limits.reserve("email", 1, 4, ahead)).as("a bucket made again, full").hasSize(5);
        new org.springframework.jdbc.core.JdbcTemplate(pool).update("DELETE FROM rate_limit_gcra WHERE channel = 'email'");   // for the other tests
    }

    @Test
    void permitsReservedInsideAnotherTransactionCountOnlyOnceItCommitsAndNeverWaitForTheRow() throws Exception {
        HikariDataSource firstPool = pool();
        ProviderRateLimits first = new ProviderRateLimits(firstPool, rates(Map.of("sms", 2)));   // capacity 1, one permit every 1.1 s / 2
        ProviderRateLimits second = new ProviderRateLimits(pool(), rates(Map.of("sms", 2)));
        TransactionTemplate claims = new TransactionTemplate(new DataSourceTransactionManager(firstPool));
        Duration ahead = Duration.ofSeconds(2);
        second.take("sms", 0);

        // A transaction that reserves and then rolls back (its claims failed) leaves the bucket as it was.
        claims.executeWithoutResult(status -> {
            assertThat(first.reserveInTransaction("sms", 3, ahead).count()).as("1 now, 2 more within 2 s at 0.55 s apart").isEqualTo(3);
            status.setRollbackOnly();
        });
        assertThat(second.take("sms", 1)).as("the rolled-back reservation took nothing: the bucket's one permit is there").isEqualTo(1);

        // Committed, the reservation is the bucket's debt for every instance: nothing is usable now, and what is left within
        // 2 s is what the reservation did not take.
        ProviderRateLimits.Reserved reserved = claims.execute(status -> first.reserveInTransaction("sms", 2, ahead));
        assertThat(reserved.count()).isEqualTo(2);
        long[] instants = reserved.asOf(ProviderRateLimits.wallClockNanos());
        assertThat(instants[1] - instants[0]).as("one refill interval apart").isGreaterThanOrEqualTo(first.refillPeriod().toNanos() / 2);
        assertThat(second.take("sms", 1)).as("the committed reservation holds the next permits").isZero();
        assertThat(second.reserve("sms", 3, ahead)).as("three more do not fit within 2 s").isEmpty();

        // While another instance holds the row (its own reservation not committed yet), a reservation in a claim's
        // transaction does not wait: it reserves nothing and the claim's transaction goes on.
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            other.submit(() -> new TransactionTemplate(new DataSourceTransactionManager(pools.get(pools.size() - 1))).executeWithoutResult(status -> {
                second.reserveInTransaction("sms", 1, Duration.ofSeconds(10));
                holding.countDown();
                await(release);
            }));
            assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
            long start = System.nanoTime();
            Integer inTheClaims = claims.execute(status -> {
                int count = first.reserveInTransaction("sms", 1, Duration.ofSeconds(10)).count();
                return count + new org.springframework.jdbc.core.JdbcTemplate(firstPool).queryForObject("SELECT 1", Integer.class);
            });
            assertThat(inTheClaims).as("nothing reserved, and the transaction still usable (1 + 0)").isEqualTo(1);
            assertThat(System.nanoTime() - start).as("no wait for the row").isLessThan(TimeUnit.SECONDS.toNanos(1));
        } finally {
            release.countDown();
            other.shutdown();
            assertThat(other.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThatThrownBy(() -> first.reserveInTransaction("sms", 1, ahead)).as("outside a transaction")
                .isInstanceOf(IllegalStateException.class);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aPermitHeldTooLongBeforeTheRequestIsWrittenIsTakenAgainThere() throws InterruptedException {
        ProviderRateLimits limits = new ProviderRateLimits(pool(), rates(Map.of("push", 1)));   // push: no other test uses its bucket
        ProviderPermits permits = new ProviderPermits(limits);

        // Sent at once: the permit of the rate-limit step is the one used at the wire.
        permits.acquire("push");
        permits.confirmAtWire();
        assertThat(permits.retakenAtWire()).as("a permit used within %d ms of its grant", ProviderPermits.USE_WITHIN_MS).isZero();

        // The next one (a second later, at 1/s), with the sender thread held up between the rate-limit step and the
        // write (the stall is the scenario).
        permits.acquire("push");
        Thread.sleep(3 * ProviderPermits.USE_WITHIN_MS);
        permits.confirmAtWire();
        assertThat(permits.retakenAtWire()).as("the aged permit was handed back and a fresh one taken").isEqualTo(1);
        assertThat(limits.take("push", 1)).as("one permit per second, and it is in use: the aged one was not used as well").isZero();

        permits.confirmAtWire();
        assertThat(permits.retakenAtWire()).as("checked once per permit").isEqualTo(1);
    }

    @Test
    void aRateThatIsNotAPositiveWholeNumberStopsStartupNamingTheKey() {
        MockEnvironment bad = rates(Map.of()).withProperty("herald.sms.rate-per-second", "ten").withProperty("herald.push.rate-per-second", "0");
        MockEnvironment missing = new MockEnvironment();
        for (String channel : List.of("herald.mail", "herald.sms", "herald.push", "herald.ops-webhook")) {
            missing.setProperty(channel + ".rate-per-second", "10");
        }
        assertThatThrownBy(() -> new ProviderRateLimits(pool(), bad))
                .hasMessageNotContaining("config/application.yaml")
                .hasMessageContaining("herald.sms.rate-per-second (\"herald.sms.rate-per-second\" from property source \"mockProperties\")"
                        + " must be a whole number of provider calls per second")
                .hasMessageContaining("was 'ten'")
                .hasMessageContaining("herald.push.rate-per-second (\"herald.push.rate-per-second\" from property source")
                .hasMessageContaining("was '0'")
                .hasMessageNotContaining("herald.mail");
        assertThatThrownBy(() -> new ProviderRateLimits(pool(), missing))
                .hasMessageContaining("herald.in-app.rate-per-second (not set)")
                .hasMessageContaining("was ''");
    }

    @Test
    void anUnreachableDatabaseIsAnInfrastructureFaultNotAPermit() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        HikariDataSource unreachable = new HikariDataSource();
        unreachable.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + closedPort + "/postgres");
        unreachable.setConnectionTimeout(500);
        unreachable.setInitializationFailTimeout(-1);
        pools.add(unreachable);
        ProviderRateLimits limits = new ProviderRateLimits(unreachable, rates(Map.of()));

        assertThatThrownBy(() -> limits.take("sms", 1))
                .isInstanceOf(DataAccessResourceFailureException.class)
                .hasMessageContaining("rate limit of channel sms")
                .satisfies(failure -> assertThat(InfrastructureFaults.isInfrastructure(failure))
                        .as("the engine pauses on it, as on any database outage").isTrue());
    }

    /** One sender thread's loop, as the engine's would be: take, "send" what was granted, wait on a scheduler when none. */
    private record Sender(ProviderRateLimits limits, String channel, Queue<Grant> grants) {
    }

    /** Runs three sender threads per sender for about the given seconds and waits for them to stop. */
    private static void run(int seconds, List<Sender> senders) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * SECOND;
        ScheduledExecutorService threads = Executors.newScheduledThreadPool(3 * senders.size());
        CountDownLatch stopped = new CountDownLatch(3 * senders.size());
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        try {
            for (Sender sender : senders) {
                for (int thread = 0; thread < 3; thread++) {
                    threads.execute(new Runnable() {
                        @Override
                        public void run() {
                            try {
                                if (System.nanoTime() >= deadline) {
                                    stopped.countDown();
                                    return;
                                }
                                long asked = System.nanoTime();
                                int granted = sender.limits().take(sender.channel(), 5);
                                long answered = System.nanoTime();
                                for (int i = 0; i < granted; i++) {
                                    sender.grants().add(new Grant(asked, answered));
                                }
                                threads.schedule(this, granted > 0 ? 0 : sender.limits().millisUntilNext(sender.channel()), TimeUnit.MILLISECONDS);
                            } catch (RuntimeException failure) {
                                failures.add(failure);
                                stopped.countDown();
                            }
                        }
                    });
                }
            }
            assertThat(stopped.await(seconds + 10L, TimeUnit.SECONDS)).as("senders stopped").isTrue();
        } finally {
            threads.shutdownNow();
        }
        assertThat(failures).as("sender failures").isEmpty();
    }

    /**
     * A permit granted somewhere between {@code asked} and {@code answered} (System.nanoTime): the database decided it
     * during that round trip. A permit taken at its instant (ProviderPermits.acquire) has both the same.
     */
    private record Grant(long asked, long answered) {
    }

    /**
     * The most grants certainly inside one window of 1 s: grants whose round trips all lie within less than a second
     * (the earliest asked to the latest answered). A loaded machine that answers one round trip late cannot make
     * grants a second apart look closer; a limiter that lets more than its rate through still shows (per-JVM buckets
     * at 20/s, for instance, grant about 40 in such a second).
     */
    private static int busiestSecond(List<Grant> grants) {
        int most = 0;
        for (Grant first : grants) {
            int inside = 0;
            for (Grant other : grants) {
                if (other.asked() >= first.asked() && other.answered() < first.asked() + SECOND) {
                    inside++;
                }
            }
            most = Math.max(most, inside);
        }
        return most;
    }

    /** The shortest time covered by {@code count} consecutive grants, by when they were answered (Long.MAX_VALUE if fewer). */
    private static long shortestSpan(List<Grant> grants, int count) {
        List<Long> times = grants.stream().map(Grant::answered).sorted().toList();
        long shortest = Long.MAX_VALUE;
        for (int first = 0; first + count - 1 < times.size(); first++) {
            shortest = Math.min(shortest, times.get(first + count - 1) - times.get(first));
        }
        return shortest;
    }

    /** A connection pool of its own, as a separate Herald instance has. */
    private static HikariDataSource pool() {
        HikariDataSource pool = new HikariDataSource();
        pool.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres"));
        pool.setMaximumPoolSize(4);
        pools.add(pool);
        return pool;
    }

    /** Every channel's rate, the defaults of config/application.yaml unless given. */
    private static MockEnvironment rates(Map<String, Integer> given) {
        MockEnvironment env = new MockEnvironment();
        Map<String, Integer> defaults = Map.of("email", 20, "sms", 10, "push", 50, "ops_webhook", 1, "in_app", 200);
        ProviderRateLimits.SETTINGS.forEach((channel, prefix) ->
                env.setProperty(prefix + ".rate-per-second", String.valueOf(given.getOrDefault(channel, defaults.get(channel)))));
        return env;
    }
}
