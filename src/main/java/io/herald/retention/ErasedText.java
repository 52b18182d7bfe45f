package io.herald.retention;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.logging.Masking;

/**
 * What an erasure takes out of the free text kept about one customer (operators' comments, providers' answers, reasons):
 * every email address and phone number, masked or written out (Masking), the customer's own addresses and push tokens as
 * the directory stored them, and their names, current and former (customer.former_names), each whole and word by word,
 * case-insensitively and only as whole words. A word shorter than 3 letters, or a common word that is also a name ("Will",
 * "May", "Max"), is not taken alone (it would wipe unrelated text); it still goes as part of the whole name ("Will Maiden").
 * Each is replaced by "(erased)".
 */
final class ErasedText implements UnaryOperator<String> {

    static final String MARK = "(erased)";

    /** Words a name may be made of that Herald's own reasons and operators' comments use for something else. */
    private static final Set<String> COMMON = Set.of(
            "the", "and", "for", "not", "you", "was", "are", "has", "had", "all", "any", "can", "may", "will", "max", "min", "new",
            "april", "june", "august", "summer", "winter", "autumn", "mark", "bill", "rose", "grace", "hope", "joy", "faith", "dawn",
            "ray", "sky", "art", "guy", "jack", "frank", "chase", "hunter", "page", "case", "price", "cash", "bank", "post", "long",
            "short", "young", "little", "small", "king", "black", "white", "green", "brown", "gray", "grey", "best", "day", "key",
            "lock", "van", "von", "der", "den", "del", "mrs", "miss", "sir", "lady", "herald", "customer", "client", "user",
            "erased", "erasure", "removed", "payload", "sent", "send", "resend", "retry", "failed", "delivery", "email", "mail",
            "phone", "push", "sms", "provider", "operator", "admin", "approval", "approved", "rejected", "withdrawn", "comment",
            "note", "ticket", "invoice", "payment", "support", "team", "billing", "account", "help", "stop", "start", "test",
            "unknown", "mailbox", "name", "full", "order", "refund");

    private final List<Pattern> literals;
    private final List<Pattern> names;

    /**
     * @param names     display, first and former names (null or blank ones are ignored)
     * @param addresses emails, phone numbers and push tokens as the directory stored them
     */
    ErasedText(List<String> names, List<String> addresses) {
        this.literals = addresses.stream().filter(a -> a != null && a.strip().length() >= 6).map(String::strip).distinct()
                .sorted(Comparator.comparingInt(String::length).reversed())
                .map(literal -> Pattern.compile(Pattern.quote(literal), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE)).toList();
        Set<String> taken = new LinkedHashSet<>();
        for (String name : names) {
            if (name == null || name.isBlank()) {
                continue;
            }
            List<String> words = Arrays.stream(name.strip().split("[\\s,;]+")).filter(w -> !w.isEmpty()).toList();
            if (words.size() > 1) {
                taken.add(String.join(" ", words));
            }
            for (String word : words) {
                if (word.codePointCount(0, word.length()) >= 3 && word.chars().anyMatch(Character::isLetter)
                        && !COMMON.contains(word.toLowerCase(Locale.ROOT))) {
                    taken.add(word);
                }
            }
        }
        List<String> longestFirst = new ArrayList<>(taken);
        longestFirst.sort(Comparator.comparingInt(String::length).reversed());
        this.names = longestFirst.stream().map(name -> Pattern.compile("(?<![\\p{L}\\p{N}])"
                        + Arrays.stream(name.split(" ")).map(Pattern::quote).reduce((a, b) -> a + "\\s+" + b).orElseThrow()
                        + "(?![\\p{L}\\p{N}])", Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE))
                .toList();
    }

    @Override
    public String apply(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (Pattern literal : literals) {
            out = literal.matcher(out).replaceAll(Matcher.quoteReplacement(MARK));
        }
        out = Masking.withoutAddresses(out, MARK);
        for (Pattern name : names) {
            out = name.matcher(out).replaceAll(Matcher.quoteReplacement(MARK));
        }
        return out;
    }
}
