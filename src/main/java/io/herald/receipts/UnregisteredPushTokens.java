package io.herald.receipts;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.dispatch.ChannelDelivery;
import io.herald.dispatch.DispatchPlanner;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Push refusals that mean the token is dead (issue 13 point 1, push), read the way FCM HTTP v1 answers them: 404 with an
 * FcmError detail errorCode UNREGISTERED (the app was uninstalled or the token expired), or 400 INVALID_ARGUMENT about the
 * token itself (a google.rpc.BadRequest field violation on message.token, or the message "The registration token is not a
 * valid FCM registration token"). Such a token is removed from the customer's directory entry and the removal kept as a
 * receipt of the delivery, in one transaction; then the same delivery goes on to the customer's next token not yet tried
 * (the loop of routes/deliver-http-template.camel.yaml calls FCM again, and the SENT record says which tokens were removed),
 * or, with none left, fails with a reason saying so (AddressGone), and a first-success notification goes on to its next channel. Any other refusal (a 400 about another field) is left to
 * refused-by-provider as an ordinary one. Called by routes/deliver-push.camel.yaml as the HTTP template's refusalCheck.
 */
@Component
public class UnregisteredPushTokens {

    private static final Logger log = LoggerFactory.getLogger(UnregisteredPushTokens.class);

    private static final String FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
    private static final String BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";
    private static final String NOT_A_TOKEN = "not a valid FCM registration token";
    /** The tokens this delivery already called (without "fcm:"), and what was said of each one removed. */
    private static final String TRIED = "heraldPushTokensTried";
    private static final String REMOVED = "heraldPushTokensRemoved";

    private final ObjectMapper json;
    private final CustomerDirectory directory;
    private final DeliveryReceipts receipts;
    private final NotificationCatalog catalog;
    private final TransactionTemplate tx;
    private final DeliveryLedger ledger;

    public UnregisteredPushTokens(ObjectMapper json, CustomerDirectory directory, DeliveryReceipts receipts, NotificationCatalog catalog,
                                  TransactionTemplate tx, DeliveryLedger ledger) {
        this.ledger = ledger;
        this.json = json;
        this.directory = directory;
        this.receipts = receipts;
        this.catalog = catalog;
        this.tx = tx;
    }

    /** Right after the provider's answer: a dead-token refusal removes the token and fails the delivery; anything else passes. */
    public void checkRefusal(Exchange exchange) {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        if (status == null || status != 404 && status != 400) {
            return;
        }
        String code = deadTokenCode(status, exchange.getMessage().getBody(String.class));
        String token = exchange.getProperty(ChannelDelivery.RECIPIENT, String.class);
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        Long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        if (code == null || token == null || notification == null || deliveryId == null) {
            return;
        }
        String masked = token.replaceFirst("^fcm:", "");
        masked = masked.substring(0, Math.min(8, masked.length())) + "…";
        String customer = notification.customerId();
        String said = "UNREGISTERED".equals(code) ? "is no longer registered with the push provider (FCM UNREGISTERED)"
                : "is not a valid registration token for the push provider (FCM INVALID_ARGUMENT on message.token)";
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        String tokenForLog = masked;
        boolean removed = Boolean.TRUE.equals(tx.execute(s -> {
            boolean gone = directory.removePushToken(customer, token);
            receipts.tokenRemoved(deliveryId, tokenForLog, code, status, "push token " + tokenForLog + " " + said + ": "
                    + (gone ? "removed from customer " + customer + "'s directory entry on " + today
                            + "; later push messages go to the customer's next token, if any (the app registers a new one when opened)"
                            : "it was no longer in customer " + customer + "'s directory entry"));
            return gone;
        }));
        log.info("push token {} of customer {} refused by the provider ({}): {}", masked, customer, code,
                removed ? "removed from the directory" : "already gone from the directory");
        String what = "push token " + masked + " " + said + ": "
                + (removed ? "removed from the customer's directory entry on " + today : "no longer in the customer's directory entry");
        @SuppressWarnings("unchecked")
        List<String> earlier = exchange.getProperty(REMOVED, List.class);
        List<String> removals = new ArrayList<>(earlier == null ? List.of() : earlier);
        removals.add(what);
        @SuppressWarnings("unchecked")
        Set<String> tried = exchange.getProperty(TRIED, Set.class);
        Set<String> triedNow = new HashSet<>(tried == null ? Set.of() : tried);
        triedNow.add(bare(token));
        // The exchange is changed only once the database work of this answer is done: a database outage in between makes the
        // error handler call this again with the exchange as it was, and the dead token would be named twice in the reason.
        String next = nextToken(customer, triedNow);
        if (next != null) {
            // The delivery names the token it goes to now (console, API), not the dead one.
            ledger.readdressed(exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class), mask(next));
            exchange.setProperty(REMOVED, removals);
            exchange.setProperty(TRIED, triedNow);
            // The same delivery goes on to the customer's next device: the dead token never got the message, so this is no repeat.
            exchange.setProperty(ChannelDelivery.RECIPIENT, next);
            exchange.setProperty(ChannelDelivery.ADDRESS_NOTE, "sent to the customer's next push token " + mask(next) + "; "
                    + String.join("; ", removals));
            exchange.setProperty(ChannelDelivery.CALL_AGAIN, true);
            exchange.getMessage().removeHeaders("*");
            exchange.getMessage().setBody(null);
            return;
        }
        throw new AddressGone(String.join("; ", removals) + nextChannel(notification), status);
    }

    /** The customer's first token in the directory not yet tried by this delivery (without its "fcm:" prefix); null if none. */
    private String nextToken(String customer, Set<String> tried) {
        List<String> tokens = directory.find(customer).map(c -> c.pushTokens()).orElse(null);
        if (tokens == null) {
            return null;
        }
        return tokens.stream().filter(t -> t != null && !t.isBlank()).map(UnregisteredPushTokens::bare)
                .filter(t -> !tried.contains(t)).findFirst().orElse(null);
    }

    private static String bare(String token) {
        return token.replaceFirst("^fcm:", "");
    }

    private static String mask(String token) {
        return token.substring(0, Math.min(8, token.length())) + "…";
    }

    /** "; the next channel (sms) is tried" when the notification goes on to another channel after this one. */
    private String nextChannel(CanonicalNotification notification) {
        if (!catalog.knows(notification.type())) {
            return "";
        }
        NotificationCatalog.Entry entry = catalog.entry(notification.type());
        List<String> channels = entry.channels();
        int next = channels.indexOf("push") + 1;
        return entry.firstSuccess() && next > 0 && next < channels.size() ? "; the next channel (" + channels.get(next) + ") is tried" : "";
    }

    /** UNREGISTERED or INVALID_ARGUMENT when the answer says the token is dead; null for any other answer (or one not in FCM's shape). */
    String deadTokenCode(int status, String body) {
        JsonNode error;
        try {
            error = body == null || body.isBlank() ? null : json.readTree(body).path("error");
        } catch (Exception e) {
            return null;   // not FCM's JSON: an ordinary refusal
        }
        if (error == null || !error.isObject()) {
            return null;
        }
        boolean tokenViolation = false;
        boolean unregistered = false;
        for (JsonNode detail : error.path("details")) {
            String type = detail.path("@type").asText("");
            if (FCM_ERROR.equals(type) && "UNREGISTERED".equals(detail.path("errorCode").asText())) {
                unregistered = true;
            }
            if (BAD_REQUEST.equals(type)) {
                for (JsonNode violation : detail.path("fieldViolations")) {
                    tokenViolation |= "message.token".equals(violation.path("field").asText());
                }
            }
        }
        if (status == 404 && unregistered) {
            return "UNREGISTERED";
        }
        boolean invalidArgument = "INVALID_ARGUMENT".equals(error.path("status").asText());
        if (status == 400 && invalidArgument && (tokenViolation || error.path("message").asText("").contains(NOT_A_TOKEN))) {
            return "INVALID_ARGUMENT";
        }
        return null;
    }
}
