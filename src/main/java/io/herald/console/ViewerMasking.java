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
    /** A person's name (customer_name, displayName, first_name…); a product's or a plan's "name" stays readable. */
    private static final Pattern PERSON_NAME =
            Pattern.compile("(customer|first|last|full|display|given|family|contact|recipient|requester|author|holder|user)_?name");
    /** Objects that describe a person, whose plain "name" is masked. */
    private static final Pattern PERSON = Pattern.compile("customer|requester|author|assignee|submitter|contact|recipient|user|holder|billing_details");

    private final ObjectMapper json;

    public ViewerMasking(ObjectMapper json) {
        this.json = json;
    }

    public String text(String text) {
        return Masking.mask(text);
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

    /** inPerson: the node describes a person (a "customer", "requester"… object), so its plain "name" is theirs. */
    private static void mask(JsonNode node, boolean inPerson) {
        if (node instanceof ObjectNode object) {
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String key = field.getKey().toLowerCase(Locale.ROOT);
                if (sensitive(key) || (inPerson && key.equals("name"))) {
                    field.setValue(maskedAll(field.getKey(), field.getValue()));
                } else {
                    mask(field.getValue(), PERSON.matcher(key).matches());
                }
            }
        } else if (node instanceof ArrayNode array) {
            array.forEach(element -> mask(element, inPerson));
        }
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
        return SENSITIVE_KEY.matcher(lowerKey).find() || PERSON_NAME.matcher(lowerKey).matches();
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
