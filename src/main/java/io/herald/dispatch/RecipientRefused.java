package io.herald.dispatch;

import java.util.regex.Pattern;

import io.herald.logging.Masking;
import jakarta.mail.MessagingException;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;

/**
 * The SMTP server refused this email's recipient: a 5xx reply to RCPT TO about the address (RFC 3463 5.1.x: no such mailbox or
 * domain; 5.2.x: a full or disabled mailbox; or, with no enhanced code, RFC 5321's 550, 551 or 553). The server took nothing,
 * and it is a refusal of this one email, like an HTTP provider's 4xx: it fails the delivery, and the email route keeps it out
 * of the email breaker (routes/deliver-email.camel.yaml), so a run of customers with dead addresses does not park everyone
 * else's email as if the server were down. A 5xx at RCPT about Herald itself (5.7.1 relaying denied; 5.1.7 or 5.1.8, Herald's
 * sender address refused) is not one of these.
 * The message is the delivery's reason: the address and the server's words masked, and what to do. It carries no cause, for
 * the same reason as {@link MailServerBusy}.
 */
public class RecipientRefused extends RuntimeException {

    /** An enhanced status code about the address or its mailbox (5.1.x, 5.2.x) right after the reply code. */
    private static final Pattern ABOUT_THE_RECIPIENT = Pattern.compile("^5\\d\\d[ -]5\\.[12]\\.\\d{1,3}(?!\\d)");
    /**
     * 5.1.7 and 5.1.8 are about the sender's address (Herald's herald.mail.from: bad syntax, a domain without DNS), which a server
     * such as Postfix answers at RCPT: every email is refused alike, so it is not one of these.
     */
    private static final Pattern ABOUT_THE_SENDER = Pattern.compile("^5\\d\\d[ -]5\\.1\\.[78](?!\\d)");
    /** A reply without an enhanced status code whose own code is about the mailbox. */
    private static final Pattern MAILBOX_CODE = Pattern.compile("^55[013](?![ -]\\d\\.\\d)");
    /**
     * Such a reply that refuses to relay for Herald, in words (Exim's "550 relay not permitted") or by qmail's trailing code
     * ("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"): Herald's configuration, every email alike.
     */
    /** RFC 3463 5.2.2: the mailbox is full; the address is right. */
    private static final Pattern MAILBOX_FULL = Pattern.compile("^5\\d\\d[ -]5\\.2\\.2(?!\\d)");
    private static final Pattern RELAYING = Pattern.compile("(?i)relay|rcpthosts|#5\\.7\\.\\d");

    RecipientRefused(String reason) {
        super(reason);
    }

    /** The recipient refusal in this failure of a send, or null when it holds none. */
    static RecipientRefused in(MessagingException e) {
        for (Exception t = e; t != null; t = t instanceof MessagingException m ? m.getNextException() : null) {
            if (t instanceof SMTPAddressFailedException refused && refused.getReturnCode() / 100 == 5) {
                String message = refused.getMessage() == null ? "" : refused.getMessage();
                int nested = message.indexOf(";\n  nested exception is:");
                String reply = (nested < 0 ? message : message.substring(0, nested)).strip();
                if ((ABOUT_THE_RECIPIENT.matcher(reply).find() && !ABOUT_THE_SENDER.matcher(reply).find()) || (MAILBOX_CODE.matcher(reply).find() && !RELAYING.matcher(reply).find())) {
                    String address = refused.getAddress() == null ? "" : " " + Masking.mask(refused.getAddress().getAddress());
                    return new RecipientRefused("the mail server refused the recipient" + address + " ("
                            + ProviderErrors.quoted(Masking.mask(reply), 300) + "), so nothing was sent. " + (MAILBOX_FULL.matcher(reply).find()
                            ? "The customer's mailbox is full: ask them to make room in it (or reach them on another channel), then retry"
                              + " this delivery"
                            : "Check the address with the customer (the server's words say why: no such mailbox, or a full or disabled"
                              + " one) and correct it in the CRM if it is wrong (its contact change updates Herald's directory), then"
                              + " retry this delivery"));
                }
            }
        }
        return null;
    }
}
