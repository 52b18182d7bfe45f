package io.herald.identity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The names a viewer must not read for a customer: the directory's display and first name, and the ones CRM contact changes
 * replaced (customer.former_names), since what was written before a rename (a message, a provider's answer, a comment)
 * quotes the old one. None for a customer no longer in the directory. The one place the console, the customer view, the
 * approvals and the proof of delivery read them from.
 */
@Component
public class CustomerNames {

    private final JdbcTemplate jdbc;

    public CustomerNames(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** One customer's names (empty for none, or no customer). */
    public List<String> of(String customerId) {
        return customerId == null ? List.of() : of(List.of(customerId)).getOrDefault(customerId, List.of());
    }

    /** Several customers' names, by customer id, in one statement. */
    public Map<String, List<String>> of(Collection<String> customerIds) {
        String[] ids = customerIds.stream().filter(Objects::nonNull).distinct().toArray(String[]::new);
        Map<String, List<String>> names = new HashMap<>();
        if (ids.length == 0) {
            return names;
        }
        jdbc.query("SELECT customer_id, display_name, first_name, former_names FROM customer WHERE customer_id = ANY(?)", row -> {
            Set<String> of = new LinkedHashSet<>();
            of.add(row.getString(2));
            of.add(row.getString(3));
            java.sql.Array former = row.getArray(4);
            if (former != null) {
                of.addAll(Arrays.asList((String[]) former.getArray()));
            }
            of.removeIf(name -> name == null || name.isBlank());
            names.put(row.getString(1), new ArrayList<>(of));
        }, (Object) ids);
        return names;
    }
}
