package io.herald.console;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.herald.logging.Masking;
import org.springframework.stereotype.Component;

/**
 * What a viewer sees of personal data: payload fields that name a person or reach them (email,
 * phone, name, address, push token) are masked, and any email or phone number left in free text
 * too. Operators, who act on failures, see the payloads as they arrived.
 */
@Component
public class ViewerMasking {

    private static final Pattern SENSITIVE_KEY = Pattern.compile("email|phone|mobile|address|street|postcode|postal|token|birth");
    /**
     * Any key naming something by its name (name, customer_name, cardholderName, shipping.name…) is a person's
     * unless it plainly names a thing: a product's, a plan's, an event's or a file's name stays readable.
     */
    private static final Pattern ANY_NAME = Pattern.compile(".*name");
    private static final Pattern THING_NAME = Pattern.compile(
            "(product|plan|price|item|sku|event|file|host|template|type|channel|source|bank|brand|network|queue|topic|route|step|field"
                    + "|method|service|app|application|tax|coupon|discount|category|group|team|company|business|merchant|shop|store"
                    + "|statement_descriptor|nick)_?name");
    /** Objects (by their key, or by Stripe's "object" field) that describe a thing: their plain "name" is not a person's. */
    private static final Pattern THING = Pattern.compile(
            "lines?|items?|line_items|data_items|products?|plans?|prices?|skus?|coupons?|discounts?|tax_rates?|invoiceitem|line_item"
                    + "|subscription_item|tags?|labels?|categor(y|ies)|groups?|fields?|custom_fields|brand");

    private final ObjectMapper json;

    public ViewerMasking(ObjectMapper json) {
        this.json = json;
    }

    public String text(String text) {
        return Masking.mask(text);
    }

    private static final Pattern IPV4_END = Pattern.compile("[0-9A-Fa-f:]*(\\d{1,3}\\.){3}\\d{1,3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:]*:[0-9A-Fa-f:]*");

    /**
     * A caller's network address as a viewer sees it: the network, not the machine. 198.51.100.23 -> 198.51.100.•••,
     * 2001:db8:85a3::8a2e:370:7334 -> 2001:db8:85a3:••• (the first 48 bits); anything else -> •••. An address can name a
     * person, and the Rejected webhooks page keeps them for the retention period; operators and admins, who block or
     * chase a sender, see it whole.
     */
    public String networkAddress(String address) {
        if (address == null || address.isBlank()) {
            return address;
        }
        String written = address.strip().replaceFirst("%.*$", "");   // an IPv6 zone (fe80::1%eth0) names a local interface
        if (IPV4_END.matcher(written).matches()) {
            return written.substring(0, written.lastIndexOf('.') + 1) + "•••";
        }
        if (!IPV6.matcher(written).matches() || written.indexOf("::") != written.lastIndexOf("::")) {
            return "•••";
        }
        String[] halves = written.split("::", -1);
        java.util.List<String> head = groups(halves[0]);
        java.util.List<String> tail = halves.length > 1 ? groups(halves[1]) : java.util.List.of();
        java.util.List<String> all = new java.util.ArrayList<>(head);
        for (int zero = head.size() + tail.size(); zero < 8; zero++) {
            all.add("0");
        }
        all.addAll(tail);
        return all.size() < 3 ? "•••" : String.join(":", all.subList(0, 3)) + ":•••";
    }

    private static java.util.List<String> groups(String part) {
        return part.isEmpty() ? java.util.List.of() : java.util.Arrays.asList(part.split(":"));
    }

    /**
     * A rendered message as a viewer sees it: emails and phone numbers masked as in {@link #text(String)}, and the customer's
     * names ("Hello Jenny,") written as their first letter and dots ("Hello J•••,"), as the customer page shows the name.
     */
    public String message(String text, java.util.Collection<String> names) {
        String masked = text(text);
        if (masked == null) {
            return null;
        }
        // The whole name and each of its words: a template greets by the first name ("Hello Jenny,"), which the directory
        // may not hold apart from the display name ("Jenny Rosen").
        java.util.List<String> longestFirst = names.stream().filter(java.util.Objects::nonNull).map(String::strip)
                .flatMap(name -> java.util.stream.Stream.concat(java.util.stream.Stream.of(name), java.util.Arrays.stream(name.split("\\s+"))))
                .filter(name -> name.length() >= 2).distinct().sorted(java.util.Comparator.comparingInt(String::length).reversed()).toList();
        for (String name : longestFirst) {
            masked = masked.replaceAll("(?<![\\p{L}\\p{N}])" + Pattern.quote(name) + "(?![\\p{L}\\p{N}])",
                    java.util.regex.Matcher.quoteReplacement(name.charAt(0) + "•••"));
        }
        return masked;
    }

    /** A JSON payload pretty-printed, masked field by field; anything that is not JSON masked as text. */
    public String payload(String payload, boolean masked) {
        if (payload == null) {
            return null;
        }
        JsonNode tree;
        try {
            tree = json.readTree(payload);
        } catch (Exception notJson) {
            return masked ? text(payload) : payload;
        }
        if (masked) {
            mask(tree);
        }
        String pretty = tree.toPrettyString();
        return masked ? text(pretty) : pretty;
    }

    private static void mask(JsonNode node) {
        mask(node, false);
    }

    /** inThing: the node describes a thing (a line item, a product, a plan…), so its plain "name" is not a person's. */
    private static void mask(JsonNode node, boolean inThing) {
        if (node instanceof ObjectNode object) {
            boolean thing = inThing || THING.matcher(object.path("object").asText("").toLowerCase(Locale.ROOT)).matches();
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String key = field.getKey().toLowerCase(Locale.ROOT);
                if (sensitive(key) || (key.equals("name") ? !thing : personName(key))) {
                    field.setValue(maskedAll(field.getKey(), field.getValue()));
                } else {
                    mask(field.getValue(), THING.matcher(key).matches() || (thing && key.equals("data")));
                }
            }
        } else if (node instanceof ArrayNode array) {
            array.forEach(element -> mask(element, inThing));
        }
    }

    private static boolean personName(String lowerKey) {
        return ANY_NAME.matcher(lowerKey).matches() && !THING_NAME.matcher(lowerKey).matches();
    }

    /** Every value under a sensitive key (a list of push tokens, an address object) is masked. */
    private static JsonNode maskedAll(String key, JsonNode value) {
        if (value.isNull()) {
            return value;
        }
        if (value.isValueNode()) {
            return TextNode.valueOf(masked(key, value.asText()));
        }
        if (value instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                array.set(i, maskedAll(key, array.get(i)));
            }
            return array;
        }
        value.fields().forEachRemaining(field -> ((ObjectNode) value).set(field.getKey(), maskedAll(field.getKey(), field.getValue())));
        return value;
    }

    private static boolean sensitive(String lowerKey) {
        return SENSITIVE_KEY.matcher(lowerKey).find();
    }

    private static String masked(String key, String value) {
        String lower = key.toLowerCase(Locale.ROOT);
        if (lower.contains("email")) {
            return Masking.email(value);
        }
        if (lower.contains("phone") || lower.contains("mobile")) {
            return Masking.phone(value);
        }
        return value.isEmpty() ? value : value.charAt(0) + "•••";
    }
}
