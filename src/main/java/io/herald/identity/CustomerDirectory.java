package io.herald.identity;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Herald's customer directory in PostgreSQL, looked up by the stable customer id the source sends. */
@Component
public class CustomerDirectory {

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;

    public CustomerDirectory(JdbcTemplate jdbc, ObjectMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public Optional<Customer> find(String customerId) {
        return jdbc.query("SELECT * FROM customer WHERE customer_id = ?", this::toCustomer, customerId).stream().findFirst();
    }

    /** The customer for an event, or UnknownCustomer with a reason an operator can act on. */
    public Customer resolve(String source, String sourceEventId, String customerId) {
        return find(customerId).orElseThrow(() -> new UnknownCustomer(source + " event " + sourceEventId
                + " names customer " + customerId + ", who is not in Herald's customer directory"));
    }

    private Customer toCustomer(ResultSet row, int rowNum) throws SQLException {
        try {
            return new Customer(
                    row.getString("customer_id"),
                    row.getString("display_name"),
                    row.getString("email"),
                    row.getString("phone"),
                    json.readValue(row.getString("push_tokens"), new TypeReference<List<String>>() { }),
                    row.getString("locale"),
                    row.getString("time_zone"),
                    json.readValue(row.getString("preferences"), new TypeReference<Map<String, List<String>>>() { }));
        } catch (JsonProcessingException e) {
            throw new SQLException("customer " + row.getString("customer_id") + " has unreadable JSON columns", e);
        }
    }
}
