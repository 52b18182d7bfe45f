package io.herald.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.OpsWebhookSettings;
import io.herald.config.PerChannelSettings;
import io.herald.ledger.DeliveryLedger.Digest;
import io.herald.ledger.DeliveryLedger.DigestLine;
import io.herald.ledger.DeliveryLedger;
import io.herald.logging.Masking;
import io.herald.ops.ConsoleLinks;
import io.herald.ops.OpsPost;
import org.apache.camel.Exchange;
import org.apache.camel.component.http.HttpMethods;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The ops webhook digests (routes/ops-digest.camel.yaml): claims the digests to post now (one per
 * notification type with deliveries waiting, plus failed or cut-off ones that are due), builds each
 * post (a bounded list of masked lines with console links, then "... and N more") and records what
 * came of it in the ledger.
 */
@Component
public class OpsDigests {

    private static final Logger log = LoggerFactory.getLogger(OpsDigests.class);
    static final String DIGEST = "heraldDigest";
    static final String SIZE = "heraldDigestSize";
    private static final String OPS_WEBHOOK = "ops_webhook";
    private static final long POST_MARGIN_MS = 5_000;

    private final DeliveryLedger ledger;
    private final OutcomeWrites outcomes;
    private final io.herald.ops.HeraldMetrics metrics;
    private final TransactionTemplate tx;
    private final ConsoleLinks links;
    private final ObjectMapper json;
    private final int maxItems;
    private final int lines;
    private final Duration lease;
    private final long intervalMs;
    private final long maxRetryDelayMs;

    public OpsDigests(DeliveryLedger ledger, TransactionTemplate tx, ConsoleLinks links, ObjectMapper json, OpsWebhookSettings settings,
                      PerChannelSettings channels, OutcomeWrites outcomes, io.herald.ops.HeraldMetrics metrics,
                      org.springframework.core.env.Environment env) {
        this.outcomes = outcomes;
        this.metrics = metrics;
        int maxItems = settings.digestMaxItems();
        int lines = settings.digestLines();
        long leaseMs = settings.digestLeaseMs();
        long intervalMs = settings.digestIntervalMs();
        long maxRetryDelayMs = settings.digestMaxRetryDelayMs();
        check(env, maxItems > 0, "herald.ops-webhook.digest-max-items", "must be at least 1, was " + maxItems);
        check(env, lines > 0, "herald.ops-webhook.digest-lines", "must be at least 1, was " + lines);
        check(env, intervalMs > 0, "herald.ops-webhook.digest-interval-ms", "must be at least 1, was " + intervalMs);
        check(env, leaseMs >= 10_000, "herald.ops-webhook.digest-lease-ms", "must be at least 10000 (longer than a post takes), was " + leaseMs);
        // The lease is renewed right before the post (stillOurs); a post that may outlast it could be taken over by another
        // instance's claim and posted twice. The longest post waits connect-timeout-ms for a pooled connection
        // (connectionRequestTimeout, routes/ops-digest.camel.yaml), as long again to connect, then response-timeout-ms.
        long postMs = 2 * channels.connectTimeoutMs(OPS_WEBHOOK) + channels.responseTimeoutMs(OPS_WEBHOOK);
        check(env, leaseMs > postMs + POST_MARGIN_MS, "herald.ops-webhook.digest-lease-ms", "must be more than the longest post,"
                + " 2 x herald.ops-webhook.connect-timeout-ms + response-timeout-ms (" + postMs + " ms), plus " + POST_MARGIN_MS
                + " ms to record it, or another instance may take a digest over while it is being posted and post it again; was " + leaseMs);
        check(env, maxRetryDelayMs >= intervalMs, "herald.ops-webhook.digest-max-retry-delay-ms",
                "must be at least herald.ops-webhook.digest-interval-ms (" + intervalMs + "), was " + maxRetryDelayMs);
        this.ledger = ledger;
        this.tx = tx;
        this.links = links;
        this.json = json;
        this.maxItems = maxItems;
        this.lines = lines;
        this.lease = Duration.ofMillis(leaseMs);
        this.intervalMs = intervalMs;
        this.maxRetryDelayMs = maxRetryDelayMs;
    }

    /** A check across settings, naming the key and where its value was set (a file and line, an environment variable…). */
    private static void check(org.springframework.core.env.Environment env, boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalStateException("Setting " + key + " (" + io.herald.config.UnknownSettings.where(env, key) + ") " + problem);
        }
    }

    /**
     * The digests to post now; each is this instance's for the lease. A type gets a new digest once per interval across
     * instances: the interval less a tenth, as this instance's own ticks come an interval apart give or take a few
     * milliseconds (the timer counts from a tick's start).
     */
    public List<Digest> claim() {
        return ledger.claimDigests(maxItems, lease, Duration.ofMillis(intervalMs - intervalMs / 10), tx);
    }

    /** The post for one digest: {"text"} with its count, up to herald.ops-webhook.digest-lines lines, and its key. */
    public void build(Exchange exchange) throws JsonProcessingException {
        Digest digest = exchange.getMessage().getBody(Digest.class);
        int size = ledger.digestSize(digest.id());
        List<DigestLine> listed = ledger.digestLines(digest.id(), lines);
        StringBuilder text = new StringBuilder()
                .append(size).append(size == 1 ? " notification " : " notifications ").append(digest.type())
                .append(" (ops digest ").append(digest.id()).append("):");
        for (DigestLine line : listed) {
            text.append("\n• ").append(Masking.mask(line.text())).append(" ").append(links.notification(line.notificationId()));
        }
        if (size > listed.size()) {
            text.append("\n… and ").append(size - listed.size()).append(" more");
        }
        exchange.setProperty(DIGEST, digest);
        exchange.setProperty(SIZE, size);
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, HttpMethods.POST);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", digest.key());
        exchange.getMessage().setBody(OpsPost.body(json, text.toString()));
    }

    /**
     * Whether this instance still holds the digest, right before its post (renewing the lease for it): one taken over by
     * another instance after its lease ran out, while this one's posts waited behind the rate limit, is not posted twice.
     */
    public boolean stillOurs(Exchange exchange) {
        Digest digest = exchange.getProperty(DIGEST, Digest.class);
        Digest renewed = ledger.renewDigestLease(digest, lease);
        if (renewed == null) {
            log.info("Ops digest {} was taken over by another instance while this one waited to post it: not posted again", digest.id());
            return false;
        }
        exchange.setProperty(DIGEST, renewed);
        return true;
    }

    /** Posted: every delivery of the digest is SENT with the digest's key as its provider id. */
    public void posted(Exchange exchange) {
        Digest digest = exchange.getProperty(DIGEST, Digest.class);
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        // Written until the database takes it: a database error here is not a failed post (the digest was posted again).
        int[] sent = new int[1];
        outcomes.untilWritten("The post of ops digest " + digest.id(), () -> sent[0] = ledger.digestPosted(digest, status));
        metrics.deliveries("ops_webhook", "SENT", sent[0]);   // herald_deliveries_total counts each delivery the digest sent
        log.info("Ops digest {} posted: {} {} notification(s) SENT", digest.id(), sent[0], digest.type());
    }

    /** Not posted: its deliveries keep waiting in it, for a later interval (longer after each failure). */
    public void failed(Exchange exchange) {
        Digest digest = exchange.getProperty(DIGEST, Digest.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        long delay = Math.min(maxRetryDelayMs, intervalMs << Math.min(digest.attempts(), 20));
        Instant next = Instant.now().plusMillis(delay);
        String reason = "ops webhook digest " + digest.id() + " not posted: " + ProviderErrors.readable(cause, "ops_webhook")
                + "; posted again with the same key in " + Math.max(1, delay / 1000) + " s";
        int waiting = ledger.digestFailed(digest, reason, next, ProviderErrors.statusOf(cause));
        log.warn("{} ({} notification(s) waiting)", reason, waiting, cause);
    }
}
