package io.herald.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.sql.DataSource;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.github.bucket4j.VerboseResult;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.jdbc.PrimaryKeyMapper;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.postgresql.Bucket4jPostgreSQL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.stereotype.Component;

/**
 * Each channel's provider rate limit, shared by every Herald instance on the same database: one
 * Bucket4j token bucket per channel in PostgreSQL (table rate_limit_bucket), so N instances together
 * send what one provider account allows, not N times that. The rate is the channel's existing
 * setting herald.&lt;settings&gt;.rate-per-second (email: herald.mail, sms: herald.sms, push: herald.push,
 * ops_webhook: herald.ops-webhook, in_app: herald.in-app).
 * <p>
 * <b>Guarantee.</b> For a channel with rate r, counting each permit at the instant it is granted
 * (read under the bucket's row lock), any r + 1 permits granted across all instances are at least
 * one second plus herald.delivery.rate-limit-margin-ms (100 ms by default) apart, so no 1-second window
 * holds more than r of them. The margin absorbs what moves a request at the provider away from its
 * grant: clock differences between instances, the time from a grant to the request being written (at
 * most {@link ProviderPermits#USE_WITHIN_MS}, checked at the wire) and the network's and the provider's
 * own variation in noting its arrival; beyond the margin the provider may see r + 1 in a second. A token
 * bucket lets through its capacity plus what it refills in any window, so a bucket of capacity r refilled
 * r per second would allow 2r in a second; here the capacity (the largest grant at once) is small, r / 20
 * but at least 2 from a rate of 10 (at least 1 below), and the refill is greedy at r - capacity + 1
 * permits per one second plus the margin. The sustained rate is therefore below r: with the default
 * margin at most 8.2 of 10, 17.3 of 20, 44.5 of 50, 174 of 200, 0.91 of 1 per second. A capacity of 1
 * would allow more, but a full bucket does not fill further while the next sender is on its way, and
 * with two busy instances taking permits one database round trip at a time that lost refill halved the
 * rate (9-11 of 20 per second measured); a second permit in the bucket absorbs that wait.
 * <p>
 * <b>Use.</b> Senders reserve permits ahead with {@link #reserve} (ProviderPermits: one transaction for as many
 * as wait, each used at its instant). {@link #take} grants only what the bucket holds now; what a take did not use
 * may be handed back with {@link #giveBack} (never a reserved permit: see reserve); when a take got none, wait
 * {@link #millisUntilNext}. A permit is
 * for immediate use: holding it before sending shifts the request past the instant the guarantee
 * counts. {@code take} and {@code giveBack} are one short PostgreSQL transaction each (SELECT ... FOR
 * UPDATE, UPDATE, COMMIT); the connection goes back to the pool at once. They never sleep; they wait
 * only for a take on the same channel by another thread or instance to commit (at most 5 s).
 * <p>
 * <b>Faults.</b> When the bucket cannot be read or written (database unreachable, pool exhausted,
 * the row lock not obtained within 5 s) they throw {@link DataAccessResourceFailureException}, which
 * {@code InfrastructureFaults} classifies as an infrastructure fault: the caller pauses and tries
 * again. There is no per-instance fallback: without the shared bucket nothing is sent.
 * <p>
 * <b>Configuration changes.</b> The bucket's configuration is built from configuration at startup and
 * stored with a version (the start time): the first take of an instance started later than the one
 * that stored it replaces the stored configuration (Bucket4j's implicit configuration replacement,
 * AS_IS: the permits left are kept, cut to the new capacity). So after a restart with a new rate the
 * bucket follows it, and while instances with different rates run side by side, the one started last
 * decides for all.
 */
@Component
public class ProviderRateLimits {

    private static final Logger LOG = LoggerFactory.getLogger(ProviderRateLimits.class);

    /** Channel (as in the ledger and the catalog) -> its settings prefix in config/application.yaml. */
    static final Map<String, String> SETTINGS = ChannelSettings.CHANNELS.stream()
            .collect(java.util.stream.Collectors.toMap(channel -> channel, ChannelSettings::prefix));

    /** The setting that widens every channel's refill period beyond one second: see the class comment. */
    static final String MARGIN_KEY = "herald.delivery.rate-limit-margin-ms";
    private static final long DEFAULT_MARGIN_MS = 100;
    /** The largest grant at once is this fraction of the rate (at least 2, or 1 below a rate of 10): small, because it counts against the second. */
    private static final int BURST_DIVISOR = 20;
    /** Longest wait for another instance's take on the same bucket; past it the take fails as an infrastructure fault. */
    private static final Duration LOCK_WAIT = Duration.ofSeconds(5);
    private static final long MAX_RATE = 1_000_000;
    /**
     * Wall-clock time (the same on every instance, unlike System.nanoTime) to the microsecond; Bucket4j's
     * default counts whole milliseconds, which makes a sender woken for the next permit up to 2 ms late
     * while the refill is lost (a full bucket does not fill further).
     */
    static final TimeMeter WALL_CLOCK = new TimeMeter() {
        @Override
        public long currentTimeNanos() {
            Instant now = Instant.now();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }

        @Override
        public boolean isWallClockBased() {
            return true;
        }
    };

    private final Map<String, Limit> limits = new TreeMap<>();
    /** r + 1 permits are spread over at least this long (one second plus the margin), so that r per second holds at the provider. */
    private final Duration refillPeriod;
    /** Transactions on the shared buckets (takes, reservations, give-backs) since start. */
    private final AtomicLong roundTrips = new AtomicLong();

    public ProviderRateLimits(DataSource dataSource, Environment env) {
        Map<String, Long> rates = rates(env);
        refillPeriod = Duration.ofMillis(1000 + margin(env));
        ProxyManager<String> buckets = Bucket4jPostgreSQL.selectForUpdateBasedBuilder(dataSource)
                .primaryKeyMapper(PrimaryKeyMapper.STRING)
                .table("rate_limit_bucket")
                .requestTimeout(LOCK_WAIT)
                .clientClock(WALL_CLOCK)
                .build();
        long configurationVersion = System.currentTimeMillis();
        rates.forEach((channel, rate) -> {
            int burst = (int) Math.max(rate >= 10 ? 2 : 1, rate / BURST_DIVISOR);
            long refill = rate - burst + 1;
            BucketConfiguration configuration = BucketConfiguration.builder()
                    .addLimit(Bandwidth.builder().capacity(burst).refillGreedy(refill, refillPeriod).id("provider-account").build())
                    .build();
            BucketProxy bucket = buckets.builder()
                    .withImplicitConfigurationReplacement(configurationVersion, TokensInheritanceStrategy.AS_IS)
                    .build(channel, () -> configuration);
            limits.put(channel, new Limit(channel, rate, burst, refill, bucket, new AtomicLong()));
            LOG.info("Channel {}: at most {} sends in any second across all instances ({}.rate-per-second), up to {} per take,"
                    + " {} per second sustained ({} ms margin)", channel, rate, SETTINGS.get(channel), burst,
                    String.format("%.1f", refill * 1000.0 / refillPeriod.toMillis()), refillPeriod.toMillis() - 1000);
        });
    }

    /**
     * Takes up to {@code wanted} permits of the channel now: returns how many were granted, 0 to
     * {@code wanted} (never more than {@link #maxPerTake}). One database transaction; never sleeps.
     *
     * @throws IllegalArgumentException for a channel without a rate limit or a negative {@code wanted}
     * @throws DataAccessResourceFailureException when the shared bucket cannot be used (an infrastructure fault: pause, try again)
     */
    public int take(String channel, int wanted) {
        Limit limit = limit(channel);
        if (wanted < 0) {
            throw new IllegalArgumentException("cannot take " + wanted + " permits");
        }
        if (wanted == 0) {
            return 0;
        }
        VerboseResult<Long> result = shared(limit, () -> limit.bucket().asVerbose().tryConsumeAsMuchAsPossible(wanted));
        long waitNanos = result.getState().calculateDelayNanosAfterWillBePossibleToConsume(1, result.getOperationTimeNanos(), false);
        limit.nextPermitAtNanos().set(result.getOperationTimeNanos() + waitNanos);
        return result.getValue().intValue();
    }

    /**
     * Reserves {@code wanted} permits of the channel in one transaction and returns the instants (wall-clock
     * epoch nanos, ascending) at which each may be used: the bucket lends them ahead of its refill (it goes
     * into debt), so the first are usable now (as many as it held) and the rest one refill interval apart,
     * exactly when the bucket would have granted them one by one. So one database round trip serves as many
     * sends as wait, while the provider still sees the bucket's spacing as long as each permit is used at its
     * instant. Returns an empty array, reserving nothing, when the last of them would come later than
     * {@code maxWait} from now (other senders or instances have reserved that far ahead). A reserved permit not
     * used at its instant must NOT be handed back with {@link #giveBack}: the bucket is in debt for what it lent,
     * and a permit added back would move every later reservation (here or at another instance) one interval
     * earlier, onto permits other senders already hold. It is dropped: lost throughput, never a breach.
     *
     * @throws IllegalArgumentException for a channel without a rate limit or {@code wanted} below 1
     * @throws DataAccessResourceFailureException when the shared bucket cannot be used
     */
    public long[] reserve(String channel, int wanted, Duration maxWait) {
        Limit limit = limit(channel);
        if (wanted < 1) {
            throw new IllegalArgumentException("cannot reserve " + wanted + " permits");
        }
        long[] lastAfterNanos = new long[1];
        boolean reserved = shared(limit, () -> limit.bucket().asBlocking()
                .tryConsumeUninterruptibly(wanted, maxWait.toNanos(), nanos -> lastAfterNanos[0] = nanos));
        if (!reserved) {
            return new long[0];
        }
        // Those the bucket held are usable now, that is once the transaction is back (like a take's grant); the rest
        // one refill interval apart. The bucket computed them from the instant it read its clock, somewhere between the
        // call and its answer (a wait for the row lock, another instance's take, a busy machine: tens of ms under load);
        // counting from the answer puts every permit at or after the instant the bucket meant, never before it (counting
        // from the call put them up to that wait early: one cause of the 21-25 in a second a sink saw at a rate of 20).
        long answered = WALL_CLOCK.currentTimeNanos();
        long interval = refillPeriod.toNanos() / limit.refill();
        long[] instants = new long[wanted];
        for (int i = 0; i < wanted; i++) {
            instants[i] = Math.max(answered, answered + lastAfterNanos[0] - (long) (wanted - 1 - i) * interval);
        }
        return instants;
    }

    /**
     * Hands back permits taken but not used (fewer deliveries claimed than permits taken), so another
     * sender or instance can use them. The bucket never holds more than {@link #maxPerTake}. Permits not
     * handed back (this call failing, a crash) are only lost throughput, never a breach of the limit.
     *
     * @throws IllegalArgumentException for a channel without a rate limit or a negative {@code unused}
     * @throws DataAccessResourceFailureException when the shared bucket cannot be used
     */
    public void giveBack(String channel, int unused) {
        Limit limit = limit(channel);
        if (unused < 0) {
            throw new IllegalArgumentException("cannot give back " + unused + " permits");
        }
        if (unused == 0) {
            return;
        }
        shared(limit, () -> {
            limit.bucket().addTokens(unused);
            return null;
        });
        limit.nextPermitAtNanos().set(0);
    }

    /**
     * How long until the channel's next permit, as this instance saw the bucket at its last
     * {@link #take} (0 if it has not taken yet or has handed permits back). No database call; another
     * instance may take that permit first, so a take after the wait can still get none (then ask again).
     */
    public long millisUntilNext(String channel) {
        long waitNanos = limit(channel).nextPermitAtNanos().get() - WALL_CLOCK.currentTimeNanos();
        return waitNanos <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(waitNanos + 999_999);
    }

    /** The most permits one {@link #take} of the channel can grant (the bucket's capacity). */
    public int maxPerTake(String channel) {
        return limit(channel).burst();
    }

    /** How long r + 1 permits of any channel are spread over at least: one second plus herald.delivery.rate-limit-margin-ms. */
    public Duration refillPeriod() {
        return refillPeriod;
    }

    /** The channel's configured rate: the most permits granted across all instances in any second. */
    public long ratePerSecond(String channel) {
        return limit(channel).rate();
    }

    private Limit limit(String channel) {
        Limit limit = limits.get(channel);
        if (limit == null) {
            throw new IllegalArgumentException("no provider rate limit for channel '" + channel + "'; channels are " + limits.keySet());
        }
        return limit;
    }

    /** Transactions on the shared buckets (takes, reservations, give-backs) this instance made since it started. */
    public long databaseRoundTrips() {
        return roundTrips.get();
    }

    private <T> T shared(Limit limit, Supplier<T> call) {
        roundTrips.incrementAndGet();
        try {
            return call.get();
        } catch (RuntimeException failure) {
            throw new DataAccessResourceFailureException("The shared rate limit of channel " + limit.channel()
                    + " (table rate_limit_bucket in PostgreSQL) cannot be used; nothing is sent on this channel until it can", failure);
        }
    }

    private static long margin(Environment env) {
        String raw = env.getProperty(MARGIN_KEY, String.valueOf(DEFAULT_MARGIN_MS));
        try {
            long margin = Long.parseLong(raw.strip());
            if (margin >= 0 && margin <= 1000) {
                return margin;
            }
        } catch (NumberFormatException notAWholeNumber) {
            // reported below
        }
        throw new IllegalStateException("Herald cannot start: " + MARGIN_KEY + " (HERALD_DELIVERY_RATE_LIMIT_MARGIN_MS) in"
                + " config/application.yaml must be a whole number of milliseconds from 0 to 1000; was '" + raw + "'");
    }

    private static Map<String, Long> rates(Environment env) {
        Map<String, Long> rates = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        new TreeMap<>(SETTINGS).forEach((channel, prefix) -> {
            String key = prefix + ".rate-per-second";
            String raw = env.getProperty(key);
            try {
                long rate = raw == null ? 0 : Long.parseLong(raw.strip());
                if (rate > 0 && rate <= MAX_RATE) {
                    rates.put(channel, rate);
                    return;
                }
            } catch (NumberFormatException notAWholeNumber) {
                // reported below
            }
            problems.add(key + " (" + key.toUpperCase().replace('.', '_').replace('-', '_') + ") must be a whole number of provider"
                    + " calls per second, from 1 to " + MAX_RATE + ", shared by all instances; was '" + (raw == null ? "" : raw) + "'");
        });
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Herald cannot start: provider rate limits in config/application.yaml (or the environment"
                    + " variables of the same names) are not usable: " + String.join("; ", problems));
        }
        return rates;
    }

    private record Limit(String channel, long rate, int burst, long refill, BucketProxy bucket, AtomicLong nextPermitAtNanos) {
    }
}
