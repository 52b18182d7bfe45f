package io.herald.dispatch;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Twilio Messages API refusals ({"code": 21211, "message": …, "more_info": …}) whose fix is outside Herald, in words: what to
 * do and where. The refusal's reason quotes Twilio's answer; these follow it. 21610 and 21614 are read by
 * receipts.SmsNumbersRefused (the number is suppressed).
 */
final class TwilioErrorCodes {

    private static final Pattern CODE = Pattern.compile("\"code\"\\s*:\\s*(\\d{5})\\b");

    private static final Map<String, String> WHAT_TO_DO = Map.of(
            "21211", "Twilio 21211: the customer's phone number in the directory is not a valid phone number, so every SMS to it is"
                    + " refused; correct the customer's phone number in the CRM, then retry the delivery",
            "21408", "Twilio 21408: the Twilio account may not send SMS to this number's country; enable the country in the Twilio"
                    + " console's Messaging Geo Permissions, then retry the delivery (every SMS to that country fails until then)",
            "21612", "Twilio 21612: Twilio cannot route an SMS from the sending number (herald.sms.from) to this number; check the"
                    + " number with the customer, or send from a number that reaches it",
            "21606", "Twilio 21606: the sending number (herald.sms.from) cannot send SMS to this number (not SMS-capable, or not for"
                    + " this country); set herald.sms.from to an SMS-capable number of the account, then retry the delivery",
            "21608", "Twilio 21608: the Twilio account is a trial account, which sends only to numbers verified in it; upgrade the"
                    + " account (or verify the number), then retry the delivery",
            "21617", "Twilio 21617: the text is longer than the 1,600 characters Twilio takes; lower herald.sms.max-length or shorten"
                    + " the template");

    private TwilioErrorCodes() {
    }

    /** " (Twilio …: what to do)" for a Twilio answer with one of these codes; "" for any other answer. */
    static String whatToDo(String body) {
        if (body == null || !body.strip().startsWith("{")) {
            return "";
        }
        Matcher code = CODE.matcher(body);
        String said = code.find() ? WHAT_TO_DO.get(code.group(1)) : null;
        return said == null ? "" : " (" + said + ")";
    }
}
