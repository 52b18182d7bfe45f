package io.herald.dispatch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.herald.config.UnknownSettings;
import io.herald.ledger.DeliveryLedger;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * What Herald does with a provider call that was cut off: the request was (or may have been) sent
 * and no answer came, either because Herald stopped mid-call (a crash: the delivery is left SENDING,
 * StaleSendings settles it) or because the answer never arrived (ProviderAnswerLost). Sending it again
 * is safe only where the provider recognises the repeat by its Idempotency-Key; Twilio's Messages API,
 * FCM HTTP v1 and Slack incoming webhooks do not document doing so. Per HTTP channel, from
 * config/application.yaml:
 * <ul>
 * <li>herald.&lt;channel&gt;.honours-idempotency-key (default false): whether the provider does;</li>
 * <li>herald.&lt;channel&gt;.resend-cut-off-calls (default: the same value): whether a cut-off call is sent
 * again (PARKED, then re-sent with the same key); if not, the delivery is UNCERTAIN, like an email:
 * flagged for a person, never sent again by Herald itself (at most once).</li>
 * </ul>
 * Email is always UNCERTAIN (an SMTP server has no such key); in-app is always re-sent (the inbox row
 * is unique per notification). Resending on a provider that honours nothing risks a duplicate: allowed,
 * with a WARN at startup.
 */
@Component
public class CutOffCalls {

    private static final Logger log = LoggerFactory.getLogger(CutOffCalls.class);

    /** HTTP channel -> its settings prefix. */
    static final Map<String, String> SETTINGS = Map.of("sms", "herald.sms", "push", "herald.push", "ops_webhook", "herald.ops-webhook");

    private final Map<String, Boolean> resends = new LinkedHashMap<>();
    private final DeliveryLedger ledger;
    private final HeraldMetrics metrics;
    private final OutcomeWrites outcomes;

    private final PushDevices pushDevices;
    private final ChannelDelivery channelDelivery;

    public CutOffCalls(Environment env, DeliveryLedger ledger, HeraldMetrics metrics, OutcomeWrites outcomes, PushDevices pushDevices,
                       ChannelDelivery channelDelivery) {
        this.pushDevices = pushDevices;
        this.channelDelivery = channelDelivery;
        this.outcomes = outcomes;
        this.ledger = ledger;
        this.metrics = metrics;
        for (String channel : List.of("sms", "push", "ops_webhook")) {
            String prefix = SETTINGS.get(channel);
            boolean honours = flag(env, prefix + ".honours-idempotency-key", "false");
            boolean resend = flag(env, prefix + ".resend-cut-off-calls", String.valueOf(honours));
            if (resend && !honours) {
                log.warn("{}.resend-cut-off-calls is true but {}.honours-idempotency-key is false: a {} call cut off by a crash or"
                        + " left without an answer will be sent again, and a provider that does not recognise the repeat by its"
                        + " Idempotency-Key may deliver it twice (a duplicate message)", prefix, prefix, channel);
            }
            resends.put(channel, resend);
        }
    }

    private static boolean flag(Environment env, String key, String fallback) {
        String value = env.getProperty(key, fallback).strip();
        if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
            throw new IllegalStateException(key + " (" + UnknownSettings.where(env, key) + ") must be true or false, not '" + value + "'");
        }
        return Boolean.parseBoolean(value);
    }

    /** Whether a cut-off call of this channel is sent again: in-app always, email never, an HTTP channel as configured. */
    public boolean resends(String channel) {
        return "in_app".equals(channel) || resends.getOrDefault(channel, false);
    }

    /** The channels whose cut-off calls are sent again (for DeliveryLedger.settleStale); any other becomes UNCERTAIN. */
    public List<String> resentChannels() {
        List<String> channels = new ArrayList<>(List.of("in_app"));
        resends.forEach((channel, resend) -> {
            if (resend) {
                channels.add(channel);
            }
        });
        return channels;
    }

    /** Used as onWhen in routes/error-handling.camel.yaml: this delivery's channel does not send a cut-off call again. */
    public boolean notResent(Exchange exchange) {
        return !resends(exchange.getProperty(ChannelDelivery.CHANNEL, "", String.class));
    }

    /**
     * The request was sent and no answer came, on a channel that does not re-send: UNCERTAIN, as after a
     * crash, with the reason a person needs; never retried or parked.
     */
    public void uncertain(Exchange exchange) {
        outcomes.untilWritten("The uncertain outcome of delivery " + exchange.getProperty(ChannelDelivery.DELIVERY_ID),
                () -> uncertainNow(exchange));
    }

    private void uncertainNow(Exchange exchange) {
        String channel = exchange.getProperty(ChannelDelivery.CHANNEL, "delivery", String.class);
        DeliveryLedger.Claim claim = exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class);
        ProviderAnswerLost lost = answerLost(exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        String what = lost == null ? "no answer came from the provider" : lost.what(SETTINGS.getOrDefault(channel, "herald." + channel));
        if (pushDevices.sentToAnotherDevice(exchange, what, true)) {
            // Another device of the customer took this push: it reached the customer, so it is SENT, not UNCERTAIN.
            channelDelivery.sent(exchange, "name");
            return;
        }
        String reason = channel + " outcome unknown: " + what + "; the provider does not honour the idempotency key, so it is not sent"
                + " again by itself; check whether the customer received it" + (claim != null && claim.resend() ? "" : ", and resend if not");
        if (claim != null && ledger.uncertain(claim, reason)) {
            metrics.delivery(channel, "UNCERTAIN");
        }
        log.warn("Delivery {} UNCERTAIN: {} ({})", exchange.getProperty(ChannelDelivery.DELIVERY_ID), reason,
                lost == null || lost.getSuppressed().length == 0 ? "no detail" : lost.getSuppressed()[0].toString());
    }

    private static ProviderAnswerLost answerLost(Throwable caught) {
        for (Throwable t = caught; t != null; t = t.getCause()) {
            if (t instanceof ProviderAnswerLost lost) {
                return lost;
            }
        }
        return null;
    }
}
