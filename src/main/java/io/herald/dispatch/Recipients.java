package io.herald.dispatch;

import java.util.List;
import java.util.Map;

import io.herald.identity.ContactAddresses;
import io.herald.identity.Customer;
import io.herald.logging.Masking;

/**
 * Where a channel reaches a customer, from the directory only (never from the event), and what
 * is missing when it cannot. The ops webhook goes to the internal team, not to the customer.
 */
final class Recipients {

    /** The address, or why there is none; {@code unusable}: why the one there cannot be sent to (null: it can). */
    record Address(String value, String masked, String missing, String unusable) {
        boolean present() {
            return value != null;
        }
    }

    private Recipients() {
    }

    static Address of(String channel, Customer customer) {
        return switch (channel) {
            case "email" -> {
                String problem = ContactAddresses.emailProblem(customer.email());
                yield present(problem == null ? ContactAddresses.sendableEmail(customer.email()) : customer.email(),
                        Masking.email(customer.email()), "no email address", unusable("email address", problem));
            }
            case "sms" -> present(ContactAddresses.dialable(customer.phone()), Masking.phone(customer.phone()), "no phone number",
                    unusable("mobile phone", ContactAddresses.phoneProblem(customer.phone())));
            case "push" -> {
                List<String> tokens = customer.pushTokens() == null ? List.of() : customer.pushTokens();
                String token = tokens.isEmpty() ? null : tokens.get(0).replaceFirst("^fcm:", "");
                yield present(token, token == null ? null : token.substring(0, Math.min(8, token.length())) + "…", "no push token", null);
            }
            case "in_app" -> present(customer.customerId(), customer.customerId(), "no customer id", null);
            case "ops_webhook" -> new Address("ops-webhook", "ops webhook", null, null);
            default -> throw new IllegalArgumentException("unknown channel " + channel);
        };
    }

    /** A customer whose preferences name the category gets only the channels listed there (an empty list: none). */
    static boolean allowed(String channel, String category, Customer customer) {
        if ("ops_webhook".equals(channel)) {
            return true;
        }
        Map<String, List<String>> preferences = customer.preferences();
        if (preferences == null || !preferences.containsKey(category)) {
            return true;
        }
        List<String> channels = preferences.get(category);
        return channels != null && channels.contains(channel);
    }

    private static Address present(String value, String masked, String missing, String unusable) {
        return value == null || value.isBlank() ? new Address(null, null, missing, null) : new Address(value, masked, null, unusable);
    }

    private static String unusable(String what, String problem) {
        return problem == null ? null : what + " in the directory cannot be sent to: " + problem;
    }
}
