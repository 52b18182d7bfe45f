package io.herald.dispatch;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.PushSettings;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.DeviceSent;
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
 * operator resend), whatever retries, restarts or operator retries come in between. Each device's answer is recorded in
 * push_device_send (V67): SENT with FCM's message name, TOKEN_REMOVED when FCM says the token is dead, REFUSED with the
 * provider's reason. A device called after another device of the delivery took it has its record written before the call
 * (CALLING): a crash during that call leaves a delivery that reached the customer, and the stale sweep settles it SENT naming
 * the device that may or may not have got it. The first device(s), called while none has taken it, are written with their
 * answer only: a crash during their call leaves the delivery SENDING with no device sent, which the sweep settles as any
 * channel's call cut off (one statement fewer per push on the ordinary path). The answer that settles the delivery SENT (the
 * last device to call took it) is written with the delivery's SENT record, in that group's transaction (DeliveryLedger.sent,
 * PushDeviceRecords): a crash between the answer and that commit leaves the delivery as it leaves an SMS or an email whose
 * answer was not yet written (UNCERTAIN, or sent again with the same key where the provider honours it). A later attempt of the same delivery (a retry
 * after a 5xx, a parked re-drive) calls only the devices without a SENT, TOKEN_REMOVED or REFUSED record: a device that
 * refused this message answered, and asking again gets the same answer. An operator's retry (after fixing what the refusal
 * named) marks the refused devices RETRY_ASKED, to be called once more (PushDeviceRecords.retryRefused); an operator's resend has
 * records of its own. At most herald.push.max-devices devices are called, the first live ones in the customer's directory
 * entry; the reason names the rest as not called. One dead or refused device does not stop the others: the delivery is SENT
 * when at least one device took it, its reason saying how many of the customer's devices took it and naming each device's
 * outcome by its masked token; with none, it fails with the refusal, or with the removals when every token was dead (a
 * first-success notification then tries its next channel). A token the provider reported dead (TOKEN_REMOVED) is not called
 * again by any later delivery, even if a CRM contact change lists it again. An attempt reads the records once, when it
 * starts ({@link Devices}), and keeps them as it writes them. PushDeviceRecords writes what this class decides. Used by
 * routes/deliver-push.camel.yaml (addressPlan and refusalCheck of the HTTP template).
 */
@Component
public class PushDevices {

    /** The tokens this attempt called (bare), the removals and refusals said of them, the last refusal's answer, its records. */
    private static final String TRIED = "heraldPushDevicesTried";
    private static final String NOTES = "heraldPushDevicesNotes";
    private static final String REFUSAL = "heraldPushDevicesRefusal";
    private static final String DEVICES = "heraldPushDevices";
    /** Set by the push sender with the claim ({@link #readWithClaim}): the delivery's devices, read with its batch. */
    static final String READ_WITH_CLAIM = "heraldPushDevicesReadWithClaim";

    private record Refusal(int status, String statusText, String body) {
    }

    /** One device's record of this delivery (or resend), as this attempt knows it. */
    record Row(String tokenMasked, String state, String providerMessageId, String reason) {
    }

    /**
     * What an attempt knows, read in one statement when it starts: the customer's push tokens (bare, in their directory entry's
     * order, without blanks and repeats), those the provider reported dead for any delivery (hashes), and this delivery's
     * device records by token hash in the order they were first written. Never changed: each write makes a new one, set on the
     * exchange only once the write is done (a database outage in between makes the error handler call again with the old one).
     */
    record Devices(List<String> tokens, Set<String> dead, Map<String, Row> rows) {

        /** The customer's live tokens: without those reported dead (the first herald.push.max-devices of them are called). */
        List<String> live() {
            return tokens.stream().filter(t -> !dead.contains(hash(t))).toList();
        }

        Devices with(String tokenHash, Row row) {
            Map<String, Row> changed = new LinkedHashMap<>(rows);
            changed.put(tokenHash, row);
            return new Devices(tokens, dead, changed);
        }

        Devices removed(String tokenHash, Row row) {
            Set<String> gone = new HashSet<>(dead);
            gone.add(tokenHash);
            return new Devices(tokens, gone, with(tokenHash, row).rows());
        }

        List<Row> in(Set<String> states) {
            return rows.values().stream().filter(r -> states.contains(r.state())).toList();
        }

        String state(String tokenHash) {
            Row row = rows.get(tokenHash);
            return row == null ? null : row.state();
        }
    }

    private final JdbcTemplate jdbc;
    private final PushDeviceRecords records;
    private final CustomerDirectory directory;
    private final UnregisteredPushTokens deadTokens;
    private final DeliveryLedger ledger;
    private final ObjectMapper json;
    private final int maxDevices;

    public PushDevices(JdbcTemplate jdbc, PushDeviceRecords records, CustomerDirectory directory, UnregisteredPushTokens deadTokens,
                       DeliveryLedger ledger, ObjectMapper json, PushSettings push) {
        this.records = records;
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
        exchange.removeProperty(DEVICES);
        exchange.removeProperty(ChannelDelivery.DEVICE_SENT);
        Devices read = exchange.getProperty(READ_WITH_CLAIM, Devices.class);
        exchange.removeProperty(READ_WITH_CLAIM);   // once: a later first call of this exchange reads afresh
        callNextOrSettle(exchange, read != null && exchange.getProperty(ChannelDelivery.RESEND) == null ? read : load(exchange),
                Set.of(), List.of(), null, null);
    }

    /**
     * A claimed batch of push deliveries' devices in one statement, in the claim's transaction (ChannelSenders): what each
     * attempt's first call would otherwise read on its own. A token another delivery finds dead after this read is called once
     * more by these (the provider answers it dead again, and it is recorded as removed).
     */
    Map<Long, Devices> readWithClaim(Map<Long, Customer> customers) {
        return read(customers, 0L);
    }

    /** After a device's answer (2xx or a refusal of this message; 5xx, 401 and timeouts never get here): record it, go on. */
    public void checkRefusal(Exchange exchange) {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        String token = exchange.getProperty(ChannelDelivery.RECIPIENT, String.class);
        long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        long resendId = resendOf(exchange);
        String body = exchange.getMessage().getBody(String.class);
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        Devices devices = exchange.getProperty(DEVICES, Devices.class);
        if (devices == null) {
            devices = load(exchange);
        }
        @SuppressWarnings("unchecked")
        Set<String> triedBefore = exchange.getProperty(TRIED, Set.class);
        @SuppressWarnings("unchecked")
        List<String> notesBefore = exchange.getProperty(NOTES, List.class);
        Set<String> tried = new HashSet<>(triedBefore == null ? Set.of() : triedBefore);
        tried.add(token);
        List<String> notes = new ArrayList<>(notesBefore == null ? List.of() : notesBefore);
        Refusal refusal = exchange.getProperty(REFUSAL, Refusal.class);
        String tokenHash = hash(token);
        String masked = UnregisteredPushTokens.mask(token);
        exchange.removeProperty(ChannelDelivery.DEVICE_SENT);
        if (status != null && status >= 200 && status < 300) {
            Row sent = new Row(masked, "SENT", messageName(body), null);
            devices = devices.with(tokenHash, sent);
            if (resendId == 0 && nextToken(devices, tried) == null) {
                // The answer that settles the delivery SENT: written with its SENT record, in that group's transaction.
                exchange.setProperty(ChannelDelivery.DEVICE_SENT, new DeviceSent(deliveryId, tokenHash, masked, sent.providerMessageId()));
            } else {
                records.answered(deliveryId, resendId, tokenHash, masked, "SENT", sent.providerMessageId(), null);
            }
        } else if (status != null) {
            String removal = deadTokens.removeIfDead(status, body, token, notification.customerId(), deliveryId,
                    what -> records.answered(deliveryId, resendId, tokenHash, masked, "TOKEN_REMOVED", null, what));
            if (removal != null) {
                notes.add(removal);
                devices = devices.removed(tokenHash, new Row(masked, "TOKEN_REMOVED", null, removal));
            } else {
                String statusText = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_TEXT, String.class);
                String reason = ProviderErrors.readable(new HttpOperationFailedException("push", status, statusText, null, Map.of(), body), "push");
                Row refused = new Row(masked, "REFUSED", null, reason);
                records.answered(deliveryId, resendId, tokenHash, masked, "REFUSED", null, reason);
                devices = devices.with(tokenHash, refused);
                notes.add("push token " + masked + " not sent: " + reason);
                refusal = new Refusal(status, statusText, body);
            }
        }
        // The exchange is changed only once this answer's database work is done: a database outage in between makes the error
        // handler call this again with the exchange as it was.
        callNextOrSettle(exchange, devices, tried, notes, refusal, notification);
    }

    private void callNextOrSettle(Exchange exchange, Devices devices, Set<String> tried, List<String> notes, Refusal refusal,
                                  CanonicalNotification known) {
        CanonicalNotification notification = known != null ? known
                : exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        long resendId = resendOf(exchange);
        String next = nextToken(devices, tried);
        if (next != null) {
            String nextHash = hash(next);
            String before = devices.state(nextHash);
            if (!devices.in(Set.of("SENT")).isEmpty() && (before == null || before.equals("CALLING") || before.equals("RETRY_ASKED"))) {
                // Another device took it: written before the call, so a crash during it leaves a SENT delivery naming this device
                // as one that may or may not have got it (the stale sweep).
                records.calling(deliveryId, resendId, nextHash, UnregisteredPushTokens.mask(next));
                devices = devices.with(nextHash, new Row(UnregisteredPushTokens.mask(next), "CALLING", null, null));
            }
            exchange.setProperty(DEVICES, devices);
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
        exchange.setProperty(DEVICES, devices);
        // Devices that refused this message in an earlier attempt of it (not called again by this one) are named too.
        Set<String> triedHashes = tried.stream().map(PushDevices::hash).collect(Collectors.toSet());
        List<String> earlier = devices.rows().entrySet().stream()
                .filter(e -> e.getValue().state().equals("REFUSED") && !triedHashes.contains(e.getKey()))
                .map(e -> "push token " + e.getValue().tokenMasked() + " not sent: " + e.getValue().reason()
                        + " (refused by an earlier attempt of this delivery; not called again: an operator's retry asks it once more)")
                .toList();
        notes.addAll(0, earlier);
        String overCap = overCapNote(devices);
        if (overCap != null) {
            notes.add(0, overCap);
        }
        if (!devices.in(Set.of("SENT")).isEmpty()) {
            settleSent(exchange, devices, notes, 0);
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
    private void settleSent(Exchange exchange, Devices known, List<String> notes, int notCalled) {
        List<Row> sent = known.in(Set.of("SENT"));
        List<String> devices = sent.stream().map(Row::tokenMasked).toList();
        // The customer's live devices this delivery was for: those that took it, refused it, may have got it, or were not called
        // (a dead token is no device of theirs any more; one over herald.push.max-devices is named by its own note).
        int missed = known.in(Set.of("REFUSED", "CALLING", "RETRY_ASKED")).size();
        int of = devices.size() + missed + notCalled;
        String first = sent.get(0).providerMessageId();
        String sentTo = String.join(", ", devices);
        // The claim named the customer's first token; the delivery names the devices that took it when they differ.
        if (!sentTo.equals(exchange.getProperty(ChannelDelivery.RECIPIENT_MASKED, String.class))) {
            ledger.readdressed(exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class), sentTo);
        }
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody(first == null ? "{}"
                : "{\"name\":\"" + new String(com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(first)) + "\"}");
        String note = "sent to " + devices.size() + (of > devices.size() ? " of " + of + " devices" : devices.size() == 1 ? " device" : " devices")
                + (devices.size() == 1 ? " (push token " : " (push tokens ") + sentTo + ")";
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
        Devices devices = load(exchange);   // read afresh: this comes after retries, from the error handling
        DeviceSent settling = exchange.getProperty(ChannelDelivery.DEVICE_SENT, DeviceSent.class);
        if (settling != null && settling.deliveryId() == deliveryId && resendId == 0) {
            // The device whose answer was to settle it SENT (not yet written: it goes with the SENT record the caller writes).
            devices = devices.with(settling.tokenHash(), new Row(settling.tokenMasked(), "SENT", settling.providerMessageId(), null));
        }
        if (devices.in(Set.of("SENT")).isEmpty()) {
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
            String tokenHash = hash(token);
            if ("CALLING".equals(devices.state(tokenHash))) {
                String reason = "not reached: " + problem;
                records.notReached(deliveryId, resendId, tokenHash, reason);
                devices = devices.with(tokenHash, new Row(UnregisteredPushTokens.mask(token), "REFUSED", null, reason));
            }
            notes.add("push token " + UnregisteredPushTokens.mask(token) + " not reached: " + problem);
            tried.add(UnregisteredPushTokens.bare(token));
        }
        List<String> notCalled = new ArrayList<>();
        for (String next = nextToken(devices, tried); next != null; next = nextToken(devices, tried)) {
            notCalled.add(UnregisteredPushTokens.mask(next));
            tried.add(next);
        }
        if (!notCalled.isEmpty()) {
            notes.add((notCalled.size() == 1 ? "push token " : "push tokens ") + String.join(", ", notCalled) + " not called (the push"
                    + " provider was unavailable)");
        }
        String overCap = overCapNote(devices);
        if (overCap != null) {
            notes.add(overCap);
        }
        settleSent(exchange, devices, notes, notCalled.size());
        return true;
    }

    /** The first of the customer's live tokens this attempt has not called and no earlier attempt sent to or was refused by. */
    private String nextToken(Devices devices, Set<String> tried) {
        List<String> live = devices.live();
        for (String bare : live.subList(0, Math.min(maxDevices, live.size()))) {
            String state = devices.state(hash(bare));
            if (!tried.contains(bare) && !"SENT".equals(state) && !"REFUSED".equals(state)) {
                return bare;
            }
        }
        return null;
    }

    /**
     * One statement: the customer's push tokens (from the exchange's customer, read with the claim; the directory when a
     * resend or a re-drive has none), which of them the provider reported dead for any delivery (a dead token is never revived
     * by FCM, so one the CRM lists again is not called again), and this delivery's (or resend's) device records. The first
     * herald.push.max-devices live tokens are called (the directory keeps no date a device registered or was last seen).
     */
    private Devices load(Exchange exchange) {
        Customer customer = exchange.getProperty(DispatchPlanner.CUSTOMER, Customer.class);
        if (customer == null) {
            CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
            customer = directory.find(notification.customerId()).orElse(null);
        }
        long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        Map<Long, Customer> one = new HashMap<>();
        one.put(deliveryId, customer);
        return read(one, resendOf(exchange)).get(deliveryId);
    }

    /** Each delivery's (or resend's) devices: its customer's tokens, those reported dead, its device records. */
    private Map<Long, Devices> read(Map<Long, Customer> customers, long resendId) {
        Map<Long, List<String>> tokens = new HashMap<>();
        customers.forEach((deliveryId, customer) -> tokens.put(deliveryId, customer == null || customer.pushTokens() == null ? List.of()
                : customer.pushTokens().stream().filter(t -> t != null && !t.isBlank()).map(t -> UnregisteredPushTokens.bare(t.strip()))
                        .distinct().toList()));
        String ids = customers.keySet().stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}"));
        String hashes = tokens.values().stream().flatMap(List::stream).map(PushDevices::hash).distinct()
                .collect(Collectors.joining(",", "{", "}"));
        Set<String> dead = new HashSet<>();
        Map<Long, Map<String, Row>> rows = new HashMap<>();
        jdbc.query("""
                SELECT delivery_id, token_hash, token_masked, state, provider_message_id, reason,
                       delivery_id = ANY(CAST(? AS BIGINT[])) AND resend_id = ? AS ours
                FROM push_device_send WHERE (delivery_id = ANY(CAST(? AS BIGINT[])) AND resend_id = ?)
                   OR (state = 'TOKEN_REMOVED' AND token_hash = ANY(CAST(? AS CHAR(64)[]))) ORDER BY id""", row -> {
            String tokenHash = row.getString("token_hash");
            if (row.getString("state").equals("TOKEN_REMOVED")) {
                dead.add(tokenHash);
            }
            if (row.getBoolean("ours")) {
                rows.computeIfAbsent(row.getLong("delivery_id"), id -> new LinkedHashMap<>()).put(tokenHash, new Row(row.getString("token_masked"),
                        row.getString("state"), row.getString("provider_message_id"), row.getString("reason")));
            }
        }, ids, resendId, ids, resendId, hashes);
        Map<Long, Devices> devices = new HashMap<>();
        tokens.forEach((deliveryId, its) -> devices.put(deliveryId, new Devices(its, dead, rows.getOrDefault(deliveryId, Map.of()))));
        return devices;
    }

    /** "N more push tokens (…) not called: over herald.push.max-devices …" when the customer has more live devices; else null. */
    private String overCapNote(Devices known) {
        List<String> devices = known.live();
        if (devices.size() <= maxDevices) {
            return null;
        }
        List<String> over = devices.subList(maxDevices, devices.size());
        String shown = over.stream().limit(5).map(UnregisteredPushTokens::mask).collect(Collectors.joining(", "))
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
        return HexFormat.of().formatHex(SHA_256.get().digest(UnregisteredPushTokens.bare(token).getBytes(StandardCharsets.UTF_8)));
    }

    /** One digest per sender thread (digest() resets it): looking the algorithm up for each token showed in the senders' profile. */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });
}
