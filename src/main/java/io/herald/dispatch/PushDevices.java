package io.herald.dispatch;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.PushSettings;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.receipts.AddressGone;
import io.herald.receipts.UnregisteredPushTokens;
import io.herald.ledger.StoredText;
import org.apache.camel.Exchange;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * A push goes to every device of the customer: each push token in the directory is called once per delivery (and once per
 * operator resend), whatever retries, restarts or operator retries come in between. Before a device is called its record is
 * written (push_device_send, V67: CALLING); the device's answer settles it (SENT with FCM's message name, TOKEN_REMOVED when
 * FCM says the token is dead, REFUSED with the provider's reason). A later attempt of the same delivery (a retry after a 5xx,
 * a parked re-drive) calls only the devices without a SENT, TOKEN_REMOVED or REFUSED record: a device that refused this message
 * answered, and asking again gets the same answer. An operator's retry (after fixing what the refusal named) marks the refused
 * devices RETRY_ASKED, to be called once more ({@link #retryRefused}); an operator's resend has records of its own. At most
 * herald.push.max-devices devices are called, the first live ones in the customer's directory entry; the reason names the rest
 * as not called. One dead or refused device does not stop the others: the delivery is SENT when at least one device took it,
 * its reason saying how many of the customer's devices took it and naming each device's outcome by its masked token; with
 * none, it fails with the refusal, or with the removals when every token was dead (a first-success notification then tries
 * its next channel). A token the provider reported dead (TOKEN_REMOVED) is not called again by any later delivery, even if a
 * CRM contact change lists it again. This class is the only writer of push_device_send. Used by
 * routes/deliver-push.camel.yaml (addressPlan and refusalCheck of the HTTP template).
 */
@Component
public class PushDevices {

    /** The tokens this attempt called (bare), the removals and refusals said of them, the last refusal's answer. */
    private static final String TRIED = "heraldPushDevicesTried";
    private static final String NOTES = "heraldPushDevicesNotes";
    private static final String REFUSAL = "heraldPushDevicesRefusal";

    private record Refusal(int status, String statusText, String body) {
    }

    private final JdbcTemplate jdbc;
    private final CustomerDirectory directory;
    private final UnregisteredPushTokens deadTokens;
    private final DeliveryLedger ledger;
    private final ObjectMapper json;
    private final int maxDevices;

    public PushDevices(JdbcTemplate jdbc, CustomerDirectory directory, UnregisteredPushTokens deadTokens, DeliveryLedger ledger,
                       ObjectMapper json, PushSettings push) {
        this.maxDevices = push.maxDevices();
        this.jdbc = jdbc;
        this.directory = directory;
        this.deadTokens = deadTokens;
        this.ledger = ledger;
        this.json = json;
    }

    /** Before the first call: the first device this attempt calls, or, with none left to call, the delivery's outcome. */
    public void firstCall(Exchange exchange) {
        exchange.removeProperty(TRIED);
        exchange.removeProperty(NOTES);
        exchange.removeProperty(REFUSAL);
        callNextOrSettle(exchange, Set.of(), List.of(), null, null);
    }

    /** After a device's answer (2xx or a refusal of this message; 5xx, 401 and timeouts never get here): record it, go on. */
    public void checkRefusal(Exchange exchange) {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        String token = exchange.getProperty(ChannelDelivery.RECIPIENT, String.class);
        long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        long resendId = resendOf(exchange);
        String body = exchange.getMessage().getBody(String.class);
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        @SuppressWarnings("unchecked")
        Set<String> triedBefore = exchange.getProperty(TRIED, Set.class);
        @SuppressWarnings("unchecked")
        List<String> notesBefore = exchange.getProperty(NOTES, List.class);
        Set<String> tried = new HashSet<>(triedBefore == null ? Set.of() : triedBefore);
        tried.add(token);
        List<String> notes = new ArrayList<>(notesBefore == null ? List.of() : notesBefore);
        Refusal refusal = exchange.getProperty(REFUSAL, Refusal.class);
        if (status != null && status >= 200 && status < 300) {
            jdbc.update("UPDATE push_device_send SET state = 'SENT', provider_message_id = ?, reason = NULL, updated_at = now()"
                    + " WHERE delivery_id = ? AND resend_id = ? AND token_hash = ?", messageName(body), deliveryId, resendId, hash(token));
        } else if (status != null) {
            String removal = deadTokens.removeIfDead(status, body, token, notification.customerId(), deliveryId, what -> jdbc.update(
                    "UPDATE push_device_send SET state = 'TOKEN_REMOVED', reason = ?, updated_at = now()"
                            + " WHERE delivery_id = ? AND resend_id = ? AND token_hash = ?", what, deliveryId, resendId, hash(token)));
            if (removal != null) {
                notes.add(removal);
            } else {
                String statusText = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_TEXT, String.class);
                String reason = ProviderErrors.readable(new HttpOperationFailedException("push", status, statusText, null, Map.of(), body), "push");
                jdbc.update("UPDATE push_device_send SET state = 'REFUSED', reason = ?, updated_at = now()"
                        + " WHERE delivery_id = ? AND resend_id = ? AND token_hash = ?", reason, deliveryId, resendId, hash(token));
                notes.add("push token " + UnregisteredPushTokens.mask(token) + " not sent: " + reason);
                refusal = new Refusal(status, statusText, body);
            }
        }
        // The exchange is changed only once this answer's database work is done: a database outage in between makes the error
        // handler call this again with the exchange as it was.
        callNextOrSettle(exchange, tried, notes, refusal, notification);
    }

    private void callNextOrSettle(Exchange exchange, Set<String> tried, List<String> notes, Refusal refusal, CanonicalNotification known) {
        CanonicalNotification notification = known != null ? known
                : exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        long resendId = resendOf(exchange);
        String next = nextToken(notification.customerId(), deliveryId, resendId, tried);
        if (next != null) {
            // Written before the call: a crash during it leaves CALLING, which the sweep's UNCERTAIN delivery explains.
            jdbc.update("""
                    INSERT INTO push_device_send (delivery_id, resend_id, token_hash, token_masked, state) VALUES (?, ?, ?, ?, 'CALLING')
                    ON CONFLICT (delivery_id, resend_id, token_hash) DO UPDATE SET state = 'CALLING', reason = NULL, updated_at = now()
                    WHERE push_device_send.state IN ('CALLING', 'RETRY_ASKED')""",
                    deliveryId, resendId, hash(next), UnregisteredPushTokens.mask(next));
            exchange.setProperty(TRIED, tried);
            exchange.setProperty(NOTES, notes);
            if (refusal != null) {
                exchange.setProperty(REFUSAL, refusal);
            }
            exchange.setProperty(ChannelDelivery.RECIPIENT, next);
            exchange.setProperty(ChannelDelivery.CALL_AGAIN, true);
            exchange.getMessage().removeHeaders("*");
            exchange.getMessage().setBody(null);
            return;
        }
        exchange.removeProperty(ChannelDelivery.CALL_AGAIN);
        List<Map<String, Object>> sent = jdbc.queryForList("SELECT token_masked, provider_message_id FROM push_device_send"
                + " WHERE delivery_id = ? AND resend_id = ? AND state = 'SENT' ORDER BY id", deliveryId, resendId);
        // Devices that refused this message in an earlier attempt of it (not called again by this one) are named too.
        String triedHashes = tried.stream().map(PushDevices::hash).collect(java.util.stream.Collectors.joining(",", "{", "}"));
        List<String> earlier = jdbc.queryForList("SELECT 'push token ' || token_masked || ' not sent: ' || reason"
                + " || ' (refused by an earlier attempt of this delivery; not called again: an operator''s retry asks it once more)'"
                + " FROM push_device_send WHERE delivery_id = ? AND resend_id = ? AND state = 'REFUSED'"
                + " AND token_hash <> ALL(CAST(? AS CHAR(64)[])) ORDER BY id", String.class, deliveryId, resendId, triedHashes);
        notes.addAll(0, earlier);
        String overCap = overCapNote(notification.customerId());
        if (overCap != null) {
            notes.add(0, overCap);
        }
        if (!sent.isEmpty()) {
            settleSent(exchange, sent, notes, 0);
            return;
        }
        if (refusal == null && !earlier.isEmpty()) {
            // No device took it in this attempt and some refused it in an earlier one: their refusals are the outcome.
            throw new AddressGone(String.join("; ", notes) + deadTokens.nextChannel(notification), 400);
        }
        if (refusal != null) {
            // No device took it and one refused it for a reason of its own: an ordinary refusal (refused-by-provider fails it).
            exchange.getMessage().removeHeaders("*");
            exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, refusal.status());
            exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_TEXT, refusal.statusText());
            exchange.getMessage().setBody(refusal.body());
            return;
        }
        String why = notes.isEmpty() ? "customer " + notification.customerId() + " has no live push token in the directory (a token the"
                + " push provider reported no longer registered is not used again; the app registers a new one when opened)"
                : String.join("; ", notes);
        throw new AddressGone(why + deadTokens.nextChannel(notification), notes.isEmpty() ? 404 : statusOf(notes));
    }

    /** The delivery's answer is the devices that took it (the first one's message name), its note naming each device's outcome. */
    private void settleSent(Exchange exchange, List<Map<String, Object>> sent, List<String> notes, int notCalled) {
        List<String> devices = sent.stream().map(r -> (String) r.get("token_masked")).toList();
        // The customer's live devices this delivery was for: those that took it, refused it, may have got it, or were not called
        // (a dead token is no device of theirs any more; one over herald.push.max-devices is named by its own note).
        Integer missed = jdbc.queryForObject("SELECT count(*) FROM push_device_send WHERE delivery_id = ? AND resend_id = ?"
                + " AND state IN ('REFUSED', 'CALLING', 'RETRY_ASKED')", Integer.class,
                exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class), resendOf(exchange));
        int of = devices.size() + (missed == null ? 0 : missed) + notCalled;
        String first = (String) sent.get(0).get("provider_message_id");
        ledger.readdressed(exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class), String.join(", ", devices));
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody(first == null ? "{}" : json.createObjectNode().put("name", first).toString());
        String note = "sent to " + devices.size() + (of > devices.size() ? " of " + of + " devices" : devices.size() == 1 ? " device" : " devices")
                + (devices.size() == 1 ? " (push token " : " (push tokens ") + String.join(", ", devices) + ")";
        exchange.setProperty(ChannelDelivery.ADDRESS_NOTE, notes.isEmpty() ? note : note + "; " + String.join("; ", notes));
    }

    /**
     * A device's retries ran out (or the open breaker turned it away) and the delivery would now fail, but another device of the
     * customer already took this push: the delivery is answered as sent (the caller records it SENT), its note naming the
     * devices not reached, so a first-success notification does not send the same message again by its next channel. The
     * device being called is marked REFUSED with the problem. False when no device took it: the caller fails it as before.
     */
    public boolean sentToAnotherDevice(Exchange exchange, String problem) {
        return sentToAnotherDevice(exchange, problem, false);
    }

    /**
     * As above; {@code mayHaveArrived}: the device's call went out and its answer was lost (no answer in time, the connection
     * cut): its record stays CALLING and the note says it may or may not have arrived there.
     */
    public boolean sentToAnotherDevice(Exchange exchange, String problem, boolean mayHaveArrived) {
        Long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        if (!"push".equals(exchange.getProperty(ChannelDelivery.CHANNEL, String.class)) || deliveryId == null || notification == null) {
            return false;
        }
        long resendId = resendOf(exchange);
        List<Map<String, Object>> sent = jdbc.queryForList("SELECT token_masked, provider_message_id FROM push_device_send"
                + " WHERE delivery_id = ? AND resend_id = ? AND state = 'SENT' ORDER BY id", deliveryId, resendId);
        if (sent.isEmpty()) {
            return false;
        }
        @SuppressWarnings("unchecked")
        Set<String> triedBefore = exchange.getProperty(TRIED, Set.class);
        @SuppressWarnings("unchecked")
        List<String> notesBefore = exchange.getProperty(NOTES, List.class);
        Set<String> tried = new HashSet<>(triedBefore == null ? Set.of() : triedBefore);
        List<String> notes = new ArrayList<>(notesBefore == null ? List.of() : notesBefore);
        String token = exchange.getProperty(ChannelDelivery.RECIPIENT, String.class);
        if (token != null && mayHaveArrived) {
            notes.add("push token " + UnregisteredPushTokens.mask(token) + " was called and its answer was lost (" + problem
                    + "): it may or may not have arrived there (not called again)");
            tried.add(UnregisteredPushTokens.bare(token));
        } else if (token != null) {
            jdbc.update("UPDATE push_device_send SET state = 'REFUSED', reason = ?, updated_at = now() WHERE delivery_id = ? AND resend_id = ?"
                    + " AND token_hash = ? AND state = 'CALLING'", "not reached: " + problem, deliveryId, resendId, hash(token));
            notes.add("push token " + UnregisteredPushTokens.mask(token) + " not reached: " + problem);
            tried.add(UnregisteredPushTokens.bare(token));
        }
        List<String> notCalled = new ArrayList<>();
        for (String next = nextToken(notification.customerId(), deliveryId, resendId, tried); next != null;
                next = nextToken(notification.customerId(), deliveryId, resendId, tried)) {
            notCalled.add(UnregisteredPushTokens.mask(next));
            tried.add(next);
        }
        if (!notCalled.isEmpty()) {
            notes.add((notCalled.size() == 1 ? "push token " : "push tokens ") + String.join(", ", notCalled) + " not called (the push"
                    + " provider was unavailable)");
        }
        String overCap = overCapNote(notification.customerId());
        if (overCap != null) {
            notes.add(overCap);
        }
        settleSent(exchange, sent, notes, notCalled.size());
        return true;
    }

    /**
     * An operator's retry of the delivery (console.OperatorActions, in its transaction): the devices that refused it are called
     * once more by the attempt it queues (the operator fixed what the refusal named, e.g. the Firebase project or the APNs key).
     */
    public int retryRefused(long deliveryId) {
        return jdbc.update("UPDATE push_device_send SET state = 'RETRY_ASKED', updated_at = now() WHERE delivery_id = ? AND resend_id = 0"
                + " AND state = 'REFUSED'", deliveryId);
    }

    /** Erasure of a customer: the device records of these notifications' deliveries (masked tokens, their hashes) are deleted. */
    public int forget(java.util.Collection<Long> notificationIds) {
        String ids = notificationIds.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",", "{", "}"));
        return jdbc.update("DELETE FROM push_device_send s USING delivery d WHERE d.id = s.delivery_id"
                + " AND d.notification_id = ANY(CAST(? AS BIGINT[]))", ids);
    }

    /** The first token of the customer's devices ({@link #devices}) this attempt has not called and no earlier attempt sent to or was refused by. */
    private String nextToken(String customerId, long deliveryId, long resendId, Set<String> tried) {
        List<String> devices = devices(customerId);
        if (devices.isEmpty()) {
            return null;
        }
        String hashes = devices.stream().map(PushDevices::hash).collect(java.util.stream.Collectors.joining(",", "{", "}"));
        Set<String> done = new HashSet<>(jdbc.queryForList("SELECT token_hash FROM push_device_send WHERE delivery_id = ? AND resend_id = ?"
                + " AND state IN ('SENT', 'REFUSED') AND token_hash = ANY(CAST(? AS CHAR(64)[]))", String.class, deliveryId, resendId, hashes));
        for (String bare : devices.subList(0, Math.min(maxDevices, devices.size()))) {
            if (!tried.contains(bare) && !done.contains(hash(bare))) {
                return bare;
            }
        }
        return null;
    }

    /**
     * The customer's live push tokens (bare), in their directory entry's order: without blanks, repeats and tokens the provider
     * reported dead for any delivery (a dead token is never revived by FCM, so one the CRM lists again is not called again). The
     * first herald.push.max-devices of them are called (the directory keeps no date a device registered or was last seen).
     */
    private List<String> devices(String customerId) {
        List<String> tokens = directory.find(customerId).map(Customer::pushTokens).orElse(null);
        if (tokens == null || tokens.isEmpty()) {
            return List.of();
        }
        List<String> bare = tokens.stream().filter(t -> t != null && !t.isBlank()).map(t -> UnregisteredPushTokens.bare(t.strip()))
                .distinct().toList();
        if (bare.isEmpty()) {
            return List.of();
        }
        String hashes = bare.stream().map(PushDevices::hash).collect(java.util.stream.Collectors.joining(",", "{", "}"));
        Set<String> dead = new HashSet<>(jdbc.queryForList("SELECT token_hash FROM push_device_send WHERE state = 'TOKEN_REMOVED'"
                + " AND token_hash = ANY(CAST(? AS CHAR(64)[]))", String.class, hashes));
        return bare.stream().filter(t -> !dead.contains(hash(t))).toList();
    }

    /** "N more push tokens (…) not called: over herald.push.max-devices …" when the customer has more live devices; else null. */
    private String overCapNote(String customerId) {
        List<String> devices = devices(customerId);
        if (devices.size() <= maxDevices) {
            return null;
        }
        List<String> over = devices.subList(maxDevices, devices.size());
        String shown = over.stream().limit(5).map(UnregisteredPushTokens::mask).collect(java.util.stream.Collectors.joining(", "))
                + (over.size() > 5 ? ", …" : "");
        return over.size() + " more push " + (over.size() == 1 ? "token" : "tokens") + " (" + shown + ") not called: over"
                + " herald.push.max-devices (" + maxDevices + "), the first " + maxDevices + " in the customer's directory entry are;"
                + " raise the setting, or remove the customer's stale tokens in the CRM";
    }

    private static int statusOf(List<String> notes) {
        return notes.get(notes.size() - 1).contains("UNREGISTERED") ? 404 : 400;
    }

    private static long resendOf(Exchange exchange) {
        Long resend = exchange.getProperty(ChannelDelivery.RESEND, Long.class);
        return resend == null ? 0L : resend;
    }

    /** FCM's message name ("projects/…/messages/…") from its answer; null if the answer holds none. */
    private String messageName(String body) {
        try {
            String name = body == null ? null : json.readTree(body).path("name").asText(null);
            return name == null ? null : StoredText.label(name, 300);
        } catch (Exception e) {
            return null;
        }
    }

    static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(UnregisteredPushTokens.bare(token).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
