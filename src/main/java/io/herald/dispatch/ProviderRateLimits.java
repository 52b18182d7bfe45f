package io.herald.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;

import io.herald.config.UnknownSettings;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Each channel's provider rate limit, shared by every Herald instance on the same database: one token
 * bucket per channel in PostgreSQL (table rate_limit_gcra, kept as GCRA: the instant its next permit is
 * due), so N instances together send what one provider account allows, not N times that. The rate is the
 * channel's existing setting herald.&lt;settings&gt;.rate-per-second (email: herald.mail, sms: herald.sms,
 * push: herald.push, ops_webhook: herald.ops-webhook, in_app: herald.in-app).
 * <p>
 * <b>Guarantee.</b> For a channel with rate r, counting each permit at the instant it is granted
 * (computed under the row's lock), any r + 1 permits granted across all instances are at least
 * one second plus herald.delivery.rate-limit-margin-ms (100 ms by default) apart, so no 1-second window
 * holds more than r of them. The margin absorbs what moves a request at the provider away from its
 * grant: clock differences between instances, the time from a grant to the request being written (at
 * most {@link ProviderPermits#USE_WITHIN_MS}, checked at the wire) and the network's and the provider's
 * own variation in noting its arrival; beyond the margin the provider may see r + 1 in a second. A token
 * bucket lets through its capacity plus what it refills in any window, so a bucket of capacity r refilled
 * r per second would allow 2r in a second; here the capacity (the most permits usable at once) is small,
 * r / 20 but at least 2 from a rate of 10 (at least 1 below), and the refill is one permit every
 * (one second plus the margin) / (r - capacity + 1). The sustained rate is therefore below r: with the
 * default margin at most 8.2 of 10, 17.3 of 20, 44.5 of 50, 174 of 200, 0.91 of 1 per second. A capacity
 * of 1 would allow more, but a full bucket does not fill further while the next sender is on its way; a
 * second permit in the bucket absorbs that wait.
 * <p>
 * <b>The bucket as one timestamp.</b> The row keeps tat, the instant the next permit is due if the bucket
 * were empty. n permits asked for at now start at base = max(tat, now - (capacity - 1) x interval): permit
 * k is usable at max(now, base + k x interval), and tat becomes base + n x interval. So a full bucket gives
 * its capacity at once, and beyond it the permits are lent ahead of the refill one interval apart, exactly
 * when the bucket would have granted them one by one (this was Bucket4j's PostgreSQL bucket until issue
 * 17's transaction count: a Bucket4j take is a transaction of its own and cannot join another).
 * <p>
 * <b>Use.</b> Senders reserve permits ahead ({@link #reserve}: a transaction of its own for as many as
 * wait; {@link #reserveInTransaction}: in the transaction that claims deliveries for sending, for those
 * deliveries) and use each at its instant. {@link #take} grants only what the bucket holds now; when it
 * got none, wait {@link #millisUntilNext}. A permit is for immediate use: holding it before sending shifts
 * the request past the instant the guarantee counts. A reserved permit not used is dropped, never handed
 * back (see reserve). Nothing here sleeps; a reservation of its own waits at most 5 s for the row's lock
 * (another instance's reservation), one inside another transaction not at all.
 * <p>
 * <b>Faults.</b> When the bucket cannot be read or written (database unreachable, pool exhausted,
 * the row lock not obtained within 5 s) they throw {@link DataAccessResourceFailureException}, which
 * {@code InfrastructureFaults} classifies as an infrastructure fault: the caller pauses and tries
 * again. There is no per-instance fallback: without the shared bucket nothing is sent.
 * <p>
 * <b>Configuration changes.</b> Each instance's configuration (interval, capacity) has a version, its
 * start time. A reservation by an instance whose version is not older than the row's writes its own
 * configuration with the new tat; an older instance uses the row's. So after a restart with a new rate
 * the bucket follows it, and while instances with different rates run side by side, the one started last
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
    /** The most permits usable at once is this fraction of the rate (at least 2, or 1 below a rate of 10): small, because it counts against the second. */
    private static final int BURST_DIVISOR = 20;
    /** Longest wait for another instance's reservation on the same row; past it a reservation of its own fails as an infrastructure fault. */
    private static final String LOCK_WAIT = "SET LOCAL lock_timeout = '5s'";
    private static final long MAX_RATE = 1_000_000;

    private final Map<String, Limit> limits = new TreeMap<>();
    /** r + 1 permits are spread over at least this long (one second plus the margin), so that r per second holds at the provider. */
    private final Duration refillPeriod;
    /** This instance's start: the version of its configuration in the rows it writes. */
    private final long configurationVersion = System.currentTimeMillis();
    /** Transactions on the shared buckets (takes, reservations of their own) since start; not those inside another transaction. */
    private final AtomicLong roundTrips = new AtomicLong();
    private final JdbcTemplate jdbc;
    private final TransactionTemplate ownTransaction;
    /** Channels whose row this instance has made sure exists. */
    private final Set<String> rowsMade = ConcurrentHashMap.newKeySet();

    /** Permits granted by one reservation: the instant each may be used, as of the instant the reservation was computed. */
    public record Reserved(long computedAtNanos, long[] instants) {
        static final Reserved NONE = new Reserved(0, new long[0]);

        /**
         * The instants moved by the time between the reservation's computation and {@code answeredNanos} (its commit, or
         * the answer of its own transaction): never before the instant the bucket meant, however long the answer took.
         */
        public long[] asOf(long answeredNanos) {
            long shift = Math.max(0, answeredNanos - computedAtNanos);
            long[] shifted = new long[instants.length];
            for (int i = 0; i < instants.length; i++) {
                shifted[i] = Math.max(answeredNanos, instants[i] + shift);
            }
            return shifted;
        }

        public int count() {
            return instants.length;
        }
    }

    public ProviderRateLimits(DataSource dataSource, Environment env) {
        Map<String, Long> rates = rates(env);
        refillPeriod = Duration.ofMillis(1000 + margin(env));
        jdbc = new JdbcTemplate(dataSource);
        jdbc.setExceptionTranslator(io.herald.config.PostgresErrorCodes.TRANSLATOR);
        ownTransaction = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        ownTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        rates.forEach((channel, rate) -> {
            int burst = (int) Math.max(rate >= 10 ? 2 : 1, rate / BURST_DIVISOR);
            long refill = rate - burst + 1;
            long interval = refillPeriod.toNanos() / refill;
            limits.put(channel, new Limit(channel, rate, burst, interval, new AtomicLong()));
            LOG.info("Channel {}: at most {} sends in any second across all instances ({}.rate-per-second), up to {} at once,"
                    + " {} per second sustained ({} ms margin)", channel, rate, SETTINGS.get(channel), burst,
                    String.format(Locale.ROOT, "%.1f", refill * 1000.0 / refillPeriod.toMillis()), refillPeriod.toMillis() - 1000);
        });
    }

    /** Wall-clock time (the same on every instance, unlike System.nanoTime) in epoch nanoseconds, to the microsecond. */
    static long wallClockNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
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
        return ofItsOwn(limit, () -> reserve(limit, wanted, 0, 0, true, false)).count();
    }

    /**
     * Reserves {@code wanted} permits of the channel in a transaction of its own and returns the instants (wall-clock
     * epoch nanos, ascending) at which each may be used: the bucket lends them ahead of its refill, so the first are
     * usable now (as many as it held) and the rest one refill interval apart, exactly when the bucket would have granted
     * them one by one. So one database round trip serves as many sends as wait, while the provider still sees the
     * bucket's spacing as long as each permit is used at its instant. Returns an empty array, reserving nothing, when
     * the last of them would come later than {@code maxWait} from now (other senders or instances have reserved that
     * far ahead). A reserved permit not used at its instant must NOT be handed back: the bucket is in debt for what it
     * lent, and a permit added back would move every later reservation (here or at another instance) one interval
     * earlier, onto permits other senders already hold. It is dropped: lost throughput, never a breach.
     *
     * @throws IllegalArgumentException for a channel without a rate limit or {@code wanted} below 1
     * @throws DataAccessResourceFailureException when the shared bucket cannot be used
     */
    public long[] reserve(String channel, int wanted, Duration maxWait) {
        return reserve(channel, wanted, 0, maxWait);
    }

    /**
     * {@link #reserve(String, int, Duration)}, and with it up to {@code extra} more permits if the bucket holds them now
     * (none lent ahead): for senders that will want one in a moment. When the rate binds, the bucket holds none and
     * nothing is reserved that could go unused; when it does not, they cost nothing and spare a transaction each.
     */
    public long[] reserve(String channel, int wanted, int extra, Duration maxWait) {
        Limit limit = limit(channel);
        if (wanted < 1 || extra < 0) {
            throw new IllegalArgumentException("cannot reserve " + wanted + " permits and " + extra + " more");
        }
        Reserved reserved = ofItsOwn(limit, () -> reserve(limit, wanted, extra, maxWait.toNanos(), false, false));
        // Counted from the answer, not from the instant the reservation was computed (somewhere between the call and its
        // answer: a wait for the row lock, a busy machine): every permit at or after the instant the bucket meant.
        return reserved.asOf(wallClockNanos());
    }

    /**
     * Reserves up to {@code wanted} permits of the channel inside the transaction the caller is in (the group commit
     * that claims deliveries for sending), as many as come within {@code maxWait}; the caller uses the instants
     * ({@link Reserved#asOf} its commit) only once that transaction has committed. In a savepoint, without waiting for
     * the row's lock (SKIP LOCKED): when another transaction holds it, or a statement fails, nothing is reserved (and the
     * caller's transaction goes on): the deliveries then reserve at their rate-limit step, as without this. Not counted in
     * {@link #databaseRoundTrips} (no transaction of its own).
     *
     * @throws IllegalStateException when called outside a transaction
     */
    public Reserved reserveInTransaction(String channel, int wanted, Duration maxWait) {
        Limit limit = limit(channel);
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException("permits of " + channel + " reserved in a transaction, but none is active");
        }
        if (wanted < 1) {
            return Reserved.NONE;
        }
        return jdbc.execute((Connection con) -> {
            Savepoint savepoint = con.setSavepoint();
            try {
                Reserved reserved = reserve(con, limit, wanted, 0, maxWait.toNanos(), true, true);
                con.releaseSavepoint(savepoint);
                return reserved;
            } catch (SQLException | RuntimeException failed) {
                con.rollback(savepoint);
                LOG.debug("Channel {}: permits not reserved with the claims ({}); the deliveries reserve their own", channel, failed.toString());
                return Reserved.NONE;
            }
        });
    }

    /** One reservation in the current transaction (see the class comment for the arithmetic). */
    private Reserved reserve(Limit limit, int wanted, int extraNow, long maxWaitNanos, boolean partial, boolean skipIfLocked) {
        return jdbc.execute((Connection con) -> reserve(con, limit, wanted, extraNow, maxWaitNanos, partial, skipIfLocked));
    }

    private Reserved reserve(Connection con, Limit limit, int wanted, int extraNow, long maxWaitNanos, boolean partial, boolean skipIfLocked)
            throws SQLException {
        makeRow(con, limit);
        if (!skipIfLocked) {
            try (PreparedStatement lockWait = con.prepareStatement(LOCK_WAIT)) {
                lockWait.execute();
            }
        }
        long tat;
        long interval;
        int burst;
        long version;
        try (PreparedStatement read = con.prepareStatement("SELECT tat_nanos, interval_nanos, burst, config_version FROM rate_limit_gcra"
                + " WHERE channel = ? FOR UPDATE" + (skipIfLocked ? " SKIP LOCKED" : ""))) {
            read.setString(1, limit.channel());
            try (ResultSet row = read.executeQuery()) {
                if (!row.next()) {
                    if (skipIfLocked || !rowsMade.remove(limit.channel())) {
                        return Reserved.NONE;   // locked by another transaction (skipIfLocked): nothing reserved, nothing waited for
                    }
                    // The row is gone (deleted by hand since this instance made it): made again, as on first use.
                    return reserve(con, limit, wanted, extraNow, maxWaitNanos, partial, false);
                }
                tat = row.getLong(1);
                interval = row.getLong(2);
                burst = row.getInt(3);
                version = row.getLong(4);
            }
        }
        boolean mine = configurationVersion >= version;
        if (mine) {
            interval = limit.interval();
            burst = limit.burst();
            version = configurationVersion;
        }
        long now = wallClockNanos();
        long base = Math.max(tat, now - (burst - 1) * interval);
        long latest = now + maxWaitNanos;
        long fit = latest < base ? 0 : (latest - base) / interval + 1;
        int granted = (int) (partial ? Math.min(wanted, fit) : (fit >= wanted ? wanted : 0));
        if (granted == wanted && extraNow > 0 && now >= base) {
            long heldNow = (now - base) / interval + 1;   // permits whose instant is now or past: what the bucket holds
            granted += (int) Math.min(extraNow, Math.max(0, heldNow - granted));
        }
        long[] instants = new long[granted];
        for (int k = 0; k < granted; k++) {
            instants[k] = Math.max(now, base + k * interval);
        }
        long newTat = base + granted * interval;
        limit.nextPermitAtNanos().set(Math.max(now, newTat));
        if (granted > 0 || mine) {
            try (PreparedStatement write = con.prepareStatement("UPDATE rate_limit_gcra SET tat_nanos = ?, interval_nanos = ?, burst = ?,"
                    + " config_version = ? WHERE channel = ?")) {
                write.setLong(1, granted > 0 ? newTat : tat);
                write.setLong(2, interval);
                write.setInt(3, burst);
                write.setLong(4, version);
                write.setString(5, limit.channel());
                write.executeUpdate();
            }
        }
        return new Reserved(now, instants);
    }

    /** The channel's row, created empty-handed (a full bucket) the first time this instance uses it. */
    private void makeRow(Connection con, Limit limit) throws SQLException {
        if (rowsMade.contains(limit.channel())) {
            return;
        }
        try (PreparedStatement insert = con.prepareStatement("INSERT INTO rate_limit_gcra (channel, tat_nanos, interval_nanos, burst,"
                + " config_version) VALUES (?, 0, ?, ?, ?) ON CONFLICT (channel) DO NOTHING")) {
            insert.setString(1, limit.channel());
            insert.setLong(2, limit.interval());
            insert.setInt(3, limit.burst());
            insert.setLong(4, configurationVersion);
            insert.executeUpdate();
        }
        rowsMade.add(limit.channel());
    }

    /**
     * How long until the channel's next permit, as this instance saw the bucket at its last
     * take or reservation (0 if it has made none). No database call; another
     * instance may take that permit first, so a take after the wait can still get none (then ask again).
     */
    public long millisUntilNext(String channel) {
        long waitNanos = limit(channel).nextPermitAtNanos().get() - wallClockNanos();
        return waitNanos <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(waitNanos + 999_999);
    }

    /** Whether the channel has a rate limit here. */
    public boolean limits(String channel) {
        return limits.containsKey(channel);
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

    /** Transactions of their own on the shared buckets (takes, reservations) this instance made since it started. */
    public long databaseRoundTrips() {
        return roundTrips.get();
    }

    /** A reservation in a transaction of its own, waiting at most 5 s for the row; any failure is an infrastructure fault. */
    private Reserved ofItsOwn(Limit limit, Supplier<Reserved> call) {
        roundTrips.incrementAndGet();
        try {
            return ownTransaction.execute(status -> call.get());
        } catch (RuntimeException failure) {
            throw new DataAccessResourceFailureException("The shared rate limit of channel " + limit.channel()
                    + " (table rate_limit_gcra in PostgreSQL) cannot be used; nothing is sent on this channel until it can", failure);
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
        throw new IllegalStateException("Herald cannot start: " + MARGIN_KEY + " (" + UnknownSettings.where(env, MARGIN_KEY) + ")"
                + " must be a whole number of milliseconds from 0 to 1000; was '" + raw + "'");
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
            problems.add(key + " (" + UnknownSettings.where(env, key) + ") must be a whole number of provider"
                    + " calls per second, from 1 to " + MAX_RATE + ", shared by all instances; was '" + (raw == null ? "" : raw) + "'");
        });
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Herald cannot start: provider rate limits are not usable (correct each where it is set,"
                    + " named in brackets): " + String.join("; ", problems));
        }
        return rates;
    }

    private record Limit(String channel, long rate, int burst, long interval, AtomicLong nextPermitAtNanos) {
    }
}
