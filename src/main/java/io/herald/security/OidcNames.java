package io.herald.security;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Owner of the oidc_name table: which names a single-sign-on subject (the token's {@code sub}) has been seen under.
 * A console login's ID token names its user (preferred_username) while an access token on the API may carry only the
 * subject; Herald shows such a token's user under the name last seen for the subject, and four eyes treats every name a
 * subject has had, and the subject itself, as one person.
 */
@Component
public class OidcNames {

    private static final Logger log = LoggerFactory.getLogger(OidcNames.class);

    private final JdbcTemplate jdbc;
    private final Set<String> recorded = ConcurrentHashMap.newKeySet();
    private final Map<String, String> lastSeen = new ConcurrentHashMap<>();

    public OidcNames(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * The name a token's user acts under: the name its claim gives (recorded for the subject), else the name last seen
     * for the subject, else the subject itself.
     */
    public String nameOf(String subject, String claimedName) {
        if (subject == null || subject.isBlank()) {
            return claimedName == null ? "unknown" : claimedName;
        }
        if (claimedName != null && !claimedName.isBlank()) {
            record(subject, claimedName);
            return claimedName;
        }
        String known = lastSeen.get(subject);
        if (known == null) {
            try {
                known = jdbc.queryForList("SELECT name FROM oidc_name WHERE subject = ? ORDER BY last_seen_at DESC LIMIT 1", String.class, subject)
                        .stream().findFirst().orElse(null);
            } catch (DataAccessException e) {
                log.warn("Could not read the names seen for a single-sign-on subject (database unreachable?); acting under the subject");
            }
            if (known != null) {
                lastSeen.put(subject, known);
            }
        }
        return known == null ? subject : known;
    }

    /**
     * Everyone {@code name} may be, lower-cased: the name itself, and, when it is a single-sign-on subject or a name one
     * was seen under, that subject and every name it was seen under.
     */
    public Set<String> aliases(String name) {
        Set<String> aliases = new TreeSet<>();
        aliases.add(name.toLowerCase(Locale.ROOT));
        jdbc.query("""
                SELECT o.subject, o.name FROM oidc_name o
                WHERE o.subject IN (SELECT subject FROM oidc_name WHERE lower(name) = lower(?) OR subject = ?)""", row -> {
            aliases.add(row.getString("subject").toLowerCase(Locale.ROOT));
            aliases.add(row.getString("name").toLowerCase(Locale.ROOT));
        }, name, name);
        return aliases;
    }

    /** Whether {@code one} and {@code other} may be one person (same name whatever the case, or names of one subject). */
    public boolean samePerson(String one, String other) {
        return aliases(one).contains(other.toLowerCase(Locale.ROOT));
    }

    private void record(String subject, String name) {
        String key = subject + "\u0000" + name;
        if (name.equals(lastSeen.get(subject)) && recorded.contains(key)) {
            return;
        }
        try {
            jdbc.update("""
                    INSERT INTO oidc_name (subject, name) VALUES (?, ?)
                    ON CONFLICT (subject, name) DO UPDATE SET last_seen_at = now()""", subject, name);
            recorded.add(key);
            lastSeen.put(subject, name);
        } catch (DataAccessException e) {
            log.warn("Could not record the name a single-sign-on subject was seen under (database unreachable, or a name longer than 255"
                    + " characters); tried again at its next request");
        }
    }
}
