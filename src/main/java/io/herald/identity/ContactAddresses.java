package io.herald.identity;

import java.net.IDN;
import java.util.regex.Pattern;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;

/**
 * Whether a customer's email address or mobile phone can be sent to as it is: exactly one bare address
 * (jenny@example.org), one international number (+447700900123). A list of addresses would send the customer's message
 * to every address on it, so it is refused, never split or guessed from. The problem is said in words without repeating
 * the address (reasons are shown to operators and logged).
 *
 * <p>A domain in letters beyond ASCII (jenny@bücher.de) is sent to in its ASCII form (jenny@xn--bcher-kva.de), which
 * every mail server takes; a name part in such letters (jöhn@example.org) needs SMTPUTF8, which Herald's mail sending
 * does not use, so it is refused in words rather than sent as bytes a server would reject or misread.
 */
public final class ContactAddresses {

    /** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
    private static final Pattern INTERNATIONAL_NUMBER = Pattern.compile("\\+[1-9]\\d{6,14}");

    private ContactAddresses() {
    }

    /** Why this email address cannot be sent to as it is, or null when it can (or there is none). */
    public static String emailProblem(String email) {
        if (email == null || email.isBlank()) {
            return null;
        }
        if (email.contains(",") || email.contains(";")) {
            return "it lists several addresses; Herald sends a customer's messages to exactly one";
        }
        if (email.contains("<") || email.contains(">") || email.contains("\"")) {
            return "it has a name, quotes or angle brackets around the address; keep only the address, such as jenny@example.org";
        }
        if (email.chars().anyMatch(Character::isWhitespace)) {
            return "it contains a space";
        }
        int at = email.indexOf('@');
        if (at <= 0 || at != email.lastIndexOf('@') || at == email.length() - 1) {
            return "it is not an address of the form name@example.org";
        }
        if (!email.substring(0, at).chars().allMatch(c -> c < 128)) {
            return "the part before the @ has letters outside plain ASCII (such as ö), which Herald's mail sending cannot address;"
                    + " ask the customer for an address without them";
        }
        String sendable = sendableEmail(email);
        if (sendable == null) {
            return "its domain (after the @) is not a valid internet domain name";
        }
        try {
            InternetAddress parsed = new InternetAddress(sendable, true);
            return parsed.getPersonal() == null && sendable.equals(parsed.getAddress()) ? null
                    : "it is not an address of the form name@example.org";
        } catch (AddressException e) {
            return "it is not an address of the form name@example.org";
        }
    }

    /**
     * The address as it is sent: its domain in ASCII (bücher.de is xn--bcher-kva.de; an ASCII domain is unchanged); null
     * for none, or when the domain cannot be written so (a label too long, an empty label).
     */
    public static String sendableEmail(String email) {
        if (email == null) {
            return null;
        }
        int at = email.lastIndexOf('@');
        if (at < 0) {
            return email;
        }
        String domain = email.substring(at + 1);
        if (domain.chars().allMatch(c -> c < 128)) {
            return email;
        }
        try {
            return email.substring(0, at + 1) + IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The number as a provider takes it: without the spaces, hyphens, dots and parentheses people write numbers with
     * (+1 (556) 123-4567 is +15561234567), no-break and narrow spaces included; null for none.
     */
    public static String dialable(String phone) {
        return phone == null ? null : phone.strip().replaceAll("[\\s\\p{Zs}().-]", "");
    }

    /** Why this mobile phone cannot be sent to (once {@link #dialable}), or null when it can (or there is none). */
    public static String phoneProblem(String phone) {
        if (phone == null || phone.isBlank()) {
            return null;
        }
        if (phone.replaceAll("[\\s\\p{Zs}]", "").contains("(0)")) {
            return "it has the national trunk prefix (0) in it; write the number without it, such as +44 7700 900123";
        }
        if (INTERNATIONAL_NUMBER.matcher(dialable(phone)).matches()) {
            return null;
        }
        return "it is not an international number (a plus, the country code, then the number, such as +44 7700 900123)";
    }
}
