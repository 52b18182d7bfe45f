package io.herald.receipts;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.CustomerDirectory;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Push refusals that mean the token is dead (issue 13 point 1, push), read the way FCM HTTP v1 answers them: 404 with an
 * FcmError detail errorCode UNREGISTERED (the app was uninstalled or the token expired), or 400 INVALID_ARGUMENT about the
 * token itself (a google.rpc.BadRequest field violation on message.token, or the message "The registration token is not a
 * valid FCM registration token"). Such a token is removed from the customer's directory entry and the removal kept as a
 * receipt of the delivery, in one transaction. Any other refusal (a 400 about another field) is an ordinary one. Called by
 * dispatch.PushDevices after each device's answer; the delivery goes on to the customer's other devices.
 */
@Component
public class UnregisteredPushTokens {

    private static final Logger log = LoggerFactory.getLogger(UnregisteredPushTokens.class);

    private static final String FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
    private static final String BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";
    private static final String NOT_A_TOKEN = "not a valid FCM registration token";

    private final ObjectMapper json;
    private final CustomerDirectory directory;
    private final DeliveryReceipts receipts;
    private final NotificationCatalog catalog;
    private final TransactionTemplate tx;

    public UnregisteredPushTokens(ObjectMapper json, CustomerDirectory directory, DeliveryReceipts receipts, NotificationCatalog catalog,
                                  TransactionTemplate tx) {
        this.json = json;
        this.directory = directory;
        this.receipts = receipts;
        this.catalog = catalog;
        this.tx = tx;
    }

    /**
     * Right after the provider's answer to one device: when it says the token is dead, the token is removed from the customer's
     * directory entry, the removal kept as a receipt of the delivery and {@code alsoInTransaction} (the device's own record) run,
     * in one transaction; returns what happened in words ("push token abcd1234… is no longer registered …: removed from the
     * customer's directory entry on <date>"). Null for any other answer (left to the caller as an ordinary refusal).
     */
    public String removeIfDead(int status, String body, String token, String customer, long deliveryId, java.util.function.Consumer<String> alsoInTransaction) {
        if (status != 404 && status != 400) {
            return null;
        }
        String code = deadTokenCode(status, body);
        if (code == null || token == null) {
            return null;
        }
        String masked = mask(bare(token));
        String said = "UNREGISTERED".equals(code) ? "is no longer registered with the push provider (FCM UNREGISTERED)"
                : "is not a valid registration token for the push provider (FCM INVALID_ARGUMENT on message.token)";
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        boolean removed = Boolean.TRUE.equals(tx.execute(s -> {
            boolean gone = directory.removePushToken(customer, token);
            receipts.tokenRemoved(deliveryId, masked, code, status, "push token " + masked + " " + said + ": "
                    + (gone ? "removed from customer " + customer + "'s directory entry on " + today
                            + "; later push messages go to the customer's other devices, if any (the app registers a new token when opened)"
                            : "it was no longer in customer " + customer + "'s directory entry"));
            String what = "push token " + masked + " " + said + ": "
                    + (gone ? "removed from the customer's directory entry on " + today : "no longer in the customer's directory entry");
            alsoInTransaction.accept(what);
            return gone;
        }));
        log.info("push token {} of customer {} refused by the provider ({}): {}", masked, customer, code,
                removed ? "removed from the directory" : "already gone from the directory");
        return "push token " + masked + " " + said + ": "
                + (removed ? "removed from the customer's directory entry on " + today : "no longer in the customer's directory entry");
    }

    /** The token without its "fcm:" prefix. */
    public static String bare(String token) {
        return token.replaceFirst("^fcm:", "");
    }

    /** The first 8 characters of a token and "…": what the ledger, the console and the logs show. */
    public static String mask(String token) {
        String bare = bare(token);
        return bare.substring(0, Math.min(8, bare.length())) + "…";
    }

    /** "; the next channel (sms) is tried" when the notification goes on to another channel after this one. */
    public String nextChannel(CanonicalNotification notification) {
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
