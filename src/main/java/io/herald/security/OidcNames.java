package io.herald.security;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import io.herald.ledger.StoredText;
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
     * Every name the person acting as {@code name} may have acted under, as four eyes compares them ({@link #key}): the name,
     * and for a single-sign-on user ({@code subject}: the token's sub; null for a local account) the subject itself and
     * every name that subject was seen under. Only the acting person's own subject counts, so someone who signs in under
     * another's name can make themselves that person's alias, never make two others one.
     */
    public Set<String> aliases(String name, String subject) {
        Set<String> aliases = new TreeSet<>();
        aliases.add(key(name));
        if (subject != null && !subject.isBlank()) {
            aliases.add(key(subject));
            jdbc.queryForList("SELECT name FROM oidc_name WHERE subject = ?", String.class, subject).forEach(seen -> aliases.add(key(seen)));
        }
        return aliases;
    }

    /** A name as four eyes compares it: as the audit trail stores it (StoredText.label), whatever the letters' case. */
    public static String key(String name) {
        return StoredText.label(name, 200).toLowerCase(Locale.ROOT);
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
