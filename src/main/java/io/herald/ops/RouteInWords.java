package io.herald.ops;

import java.util.Locale;
import java.util.Map;

/**
 * What each of Herald's routes does, said for someone who is not an engineer, for the alert about a route left stopped or
 * suspended (StoppedRoutes): what stops happening while it does not run ("SMS deliveries are not being sent") and what
 * happens again once it runs ("SMS deliveries are being sent again"). A route not listed here is named by its id.
 */
public final class RouteInWords {

    /** What a route does, as "not being …" and "being … again" read it. */
    record Words(String stopped, String back) {
    }

    private static final Map<String, Words> ROUTES = Map.ofEntries(
            Map.entry("support-webhook", new Words("helpdesk (support) events are refused: the helpdesk may not send them again",
                    "helpdesk (support) events are accepted again")),
            Map.entry("billing-webhook", new Words("billing (payment) events are refused: the billing system may not send them again",
                    "billing (payment) events are accepted again")),
            Map.entry("incidents-webhook", new Words("incident alerts from Alertmanager are refused", "incident alerts from Alertmanager are accepted again")),
            Map.entry("sms-status-webhook", new Words("SMS delivery receipts from the SMS provider are refused", "SMS delivery receipts are accepted again")),
            Map.entry("email-events-webhook", new Words("email delivery events (bounces, complaints) are refused", "email delivery events are accepted again")),
            Map.entry("sms-inbound-webhook", new Words("customers' SMS replies (STOP, START, HELP) are refused", "customers' SMS replies are accepted again")),
            Map.entry("support-ingest", new Words("helpdesk (support) events are not being turned into notifications: they wait in Kafka",
                    "helpdesk (support) events are being processed again")),
            Map.entry("support-mapping", new Words("helpdesk (support) events are not being turned into notifications: they wait in Kafka",
                    "helpdesk (support) events are being processed again")),
            Map.entry("support-datasonnet", new Words("helpdesk (support) events are not being turned into notifications: they wait in Kafka",
                    "helpdesk (support) events are being processed again")),
            Map.entry("billing-ingest", new Words("billing (payment) events are not being turned into notifications: they wait in Kafka",
                    "billing (payment) events are being processed again")),
            Map.entry("billing-mapping", new Words("billing (payment) events are not being turned into notifications: they wait in Kafka",
                    "billing (payment) events are being processed again")),
            Map.entry("billing-datasonnet", new Words("billing (payment) events are not being turned into notifications: they wait in Kafka",
                    "billing (payment) events are being processed again")),
            Map.entry("crm-outbox-poll", new Words("new CRM events (orders, contact changes) are not being picked up: they wait in the CRM's outbox",
                    "new CRM events are being picked up again")),
            Map.entry("crm-outbox-claim", new Words("new CRM events (orders, contact changes) are not being picked up: they wait in the CRM's outbox",
                    "new CRM events are being picked up again")),
            Map.entry("crm-ingest", new Words("CRM events (orders, contact changes) are not being turned into notifications: they wait in Kafka",
                    "CRM events are being processed again")),
            Map.entry("crm-mapping", new Words("CRM events (orders, contact changes) are not being turned into notifications: they wait in Kafka",
                    "CRM events are being processed again")),
            Map.entry("crm-datasonnet", new Words("CRM events (orders, contact changes) are not being turned into notifications: they wait in Kafka",
                    "CRM events are being processed again")),
            Map.entry("notification-intake", new Words("no event from any source is being turned into a notification: they wait in Kafka",
                    "events are being turned into notifications again")),
            Map.entry("dispatch", new Words("no new notification is being queued for delivery: they wait in Kafka",
                    "new notifications are being queued for delivery again")),
            Map.entry("channel-senders", new Words("no delivery on any channel (email, SMS, push, in-app, ops) is being sent: they wait in the ledger",
                    "deliveries on every channel are being sent again")),
            Map.entry("parked-deliveries", new Words("resends parked by a provider outage are not being tried again", "parked resends are being tried again")),
            Map.entry("deliver-ops-digest", new Words("ops notifications posted in digests are not being recorded", "ops digest notifications are being recorded again")),
            Map.entry("ops-digest", new Words("ops digests are not being posted to the ops channel", "ops digests are being posted again")),
            Map.entry("fire-scheduled-send", new Words("scheduled sends (quiet hours, reminders) are not going out when due", "scheduled sends go out again")),
            Map.entry("approval-expiry", new Words("notifications nobody approved in time are not being expired", "unapproved notifications are being expired again")),
            Map.entry("failure-alerts", new Words("delivery failures are not being alerted on this channel", "delivery failures are being alerted again")),
            Map.entry("failure-alert", new Words("delivery failures are not being alerted on this channel", "delivery failures are being alerted again")),
            Map.entry("signature-failure-alerts", new Words("bursts of refused webhook signatures are not being alerted", "refused webhook signatures are being alerted again")),
            Map.entry("signature-failure-alert", new Words("bursts of refused webhook signatures are not being alerted", "refused webhook signatures are being alerted again")),
            Map.entry("receipt-spike-alerts", new Words("spikes of bounces and complaints are not being alerted", "bounce and complaint spikes are being alerted again")),
            Map.entry("receipt-spike-alert", new Words("spikes of bounces and complaints are not being alerted", "bounce and complaint spikes are being alerted again")),
            Map.entry("send-windows", new Words("messages sent too late are not being flagged or held", "late messages are being flagged again")),
            Map.entry("stale-sendings", new Words("deliveries cut off mid-send (a crash) are not being settled", "cut-off deliveries are being settled again")),
            Map.entry("retention", new Words("old data is not being removed as the retention policy says", "old data is being removed again")),
            Map.entry("retention-timer", new Words("old data is not being removed as the retention policy says", "old data is being removed again")),
            Map.entry("ops-gauges", new Words("the dashboards' queue and backlog figures are not being updated", "the dashboards' figures are being updated again")),
            Map.entry("ticket-notes", new Words("notes on helpdesk tickets are not being posted", "notes on helpdesk tickets are being posted again")),
            Map.entry("incident-alert", new Words("incident alerts are not being passed on", "incident alerts are being passed on again")),
            Map.entry("incident-notices", new Words("incident notices to customers are not being sent", "incident notices are being sent again")),
            Map.entry("early-receipts", new Words("delivery receipts that came early are not being matched", "early delivery receipts are being matched again")));

    private RouteInWords() {
    }

    /** Whether what the route would do waits for it, nothing lost (not so for a webhook: what it refuses is the sender's to send again). */
    public static boolean keepsItsWork(String routeId) {
        return channelOf(routeId) != null || !routeId.endsWith("-webhook");
    }

    /** Herald's channels, as their routes name them after deliver- or send-. */
    private static final java.util.Set<String> CHANNELS = java.util.Set.of("email", "sms", "push", "in_app", "ops_webhook");

    /** The channel a route sends (deliver-sms, send-sms: "sms"), or null (send-windows is no channel's). */
    static String channelOf(String routeId) {
        for (String prefix : new String[] {"deliver-", "send-"}) {
            if (routeId.startsWith(prefix)) {
                String channel = routeId.substring(prefix.length()).replace('-', '_');
                return CHANNELS.contains(channel) ? channel : null;
            }
        }
        return null;
    }

    static Words of(String routeId) {
        String channel = channelOf(routeId);
        if (channel != null) {
            String what = deliveries(channel);
            return new Words(what + " are not being sent: they wait in the ledger", what + " are being sent again");
        }
        Words words = ROUTES.get(routeId);
        return words != null ? words : new Words("what Herald's route " + routeId + " does is not being done",
                "Herald's route " + routeId + " works again");
    }

    /** "SMS deliveries", "emails", as a person names a channel's messages. */
    static String deliveries(String channel) {
        return switch (channel) {
            case "sms" -> "SMS deliveries";
            case "email" -> "Emails";
            case "push" -> "Push notifications";
            case "in_app" -> "In-app messages";
            case "ops_webhook" -> "Posts to the ops channel";
            default -> channel.toUpperCase(Locale.ROOT) + " deliveries";
        };
    }
}
