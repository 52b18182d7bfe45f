package io.herald.dispatch;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * FCM HTTP v1's error codes (the FcmError detail's errorCode, firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode) that
 * need someone to act outside Herald, in words: what to check and where. The refusal's reason quotes FCM's JSON; these follow
 * it. UNREGISTERED and an invalid token are read by receipts.UnregisteredPushTokens (the token is removed).
 */
final class FcmErrorCodes {

    private static final Pattern ERROR_CODE = Pattern.compile(
            "google\\.firebase\\.fcm\\.v1\\.FcmError\"\\s*,\\s*\"errorCode\"\\s*:\\s*\"([A-Z_]+)\"");

    private static final Map<String, String> WHAT_TO_DO = Map.of(
            "SENDER_ID_MISMATCH", "FCM SENDER_ID_MISMATCH: this device's push token was registered for another Firebase project than"
                    + " the one herald.push.url sends through (an app built with another project's Firebase configuration, or"
                    + " herald.push.url and the service account naming the wrong project); the token was kept. Check that herald.push.url"
                    + " names the app's Firebase project, then retry the delivery",
            "THIRD_PARTY_AUTH_ERROR", "FCM THIRD_PARTY_AUTH_ERROR: Apple's push service (APNs) or the browser's web push service refused"
                    + " the Firebase project's key for this device; upload a valid APNs authentication key (or web push certificate) in"
                    + " the Firebase console, Project settings, Cloud Messaging, then retry the delivery",
            "QUOTA_EXCEEDED", "FCM QUOTA_EXCEEDED: more was sent than the project's quota, or than this one device takes; lower"
                    + " herald.push.rate-per-second if it happens often");

    private FcmErrorCodes() {
    }

    /** "; FCM …: what to do" for an FCM answer with one of these error codes; "" for any other answer. */
    static String whatToDo(String body) {
        if (body == null || !body.contains("FcmError")) {
            return "";
        }
        Matcher code = ERROR_CODE.matcher(body);
        String said = code.find() ? WHAT_TO_DO.get(code.group(1)) : null;
        return said == null ? "" : " (" + said + ")";
    }
}
