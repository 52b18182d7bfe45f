package io.herald.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * The people who may log in, with one role each: VIEWER (reads, sensitive values masked),
 * OPERATOR (acts on failures) or ADMIN (also Hawtio, Jolokia, actuator); APPROVER decides notifications held for approval
 * (io.herald.approval; reads like a viewer, recipients unmasked); APP is for a listed client
 * account of the product's in-app inbox (its customers' inbox only). For larger setups, OIDC
 * (io.herald.security.OidcSettings) adds the provider's users beside these. Two sources:
 * herald.security.users (a list; the local profile's demo users) and one account per role from
 * the environment (HERALD_ADMIN_USERNAME / _PASSWORD, HERALD_OPERATOR_…, HERALD_VIEWER_…).
 * An account whose username or password is blank is not created. A password written as {id}… with an id Spring Security's
 * DelegatingPasswordEncoder knows ({bcrypt}$2a$…, {noop}…) is taken as encoded; any other value, even one starting with
 * "{", is a plain password and is encoded here.
 */
@ConfigurationProperties("herald")
public record HeraldUsers(Account admin, Account operator, Account viewer, Security security) {

    static final Set<String> ROLES = Set.of("VIEWER", "OPERATOR", "ADMIN", "APP", "APPROVER");

    /** The ids PasswordEncoderFactories.createDelegatingPasswordEncoder() maps to an encoder. */
    static final Set<String> ENCODER_IDS = Set.of("bcrypt", "ldap", "MD4", "MD5", "noop", "pbkdf2", "pbkdf2@SpringSecurity_v5_8",
            "scrypt", "scrypt@SpringSecurity_v5_8", "SHA-1", "SHA-256", "sha256", "argon2", "argon2@SpringSecurity_v5_8");

    /** A BCrypt hash as Spring's BCryptPasswordEncoder reads it: $2a$10$ and 53 characters of its alphabet. */
    private static final java.util.regex.Pattern BCRYPT = java.util.regex.Pattern.compile("\\$2[aby]?\\$\\d\\d\\$[./0-9A-Za-z]{53}");

    public record Account(String username, String password) {
    }

    public record Entry(String username, String password, String role) {
    }

    public record Security(List<Entry> users) {
    }

    List<UserDetails> accounts() {
        PasswordEncoder encoder = PasswordEncoderFactories.createDelegatingPasswordEncoder();
        List<UserDetails> accounts = new ArrayList<>();
        add(accounts, encoder, admin, "ADMIN", "herald.admin");
        add(accounts, encoder, operator, "OPERATOR", "herald.operator");
        add(accounts, encoder, viewer, "VIEWER", "herald.viewer");
        List<Entry> listed = security == null || security.users() == null ? List.of() : security.users();
        for (int i = 0; i < listed.size(); i++) {
            Entry entry = listed.get(i);
            String key = "herald.security.users[" + i + "]";
            String role = entry.role() == null ? "" : entry.role().strip().toUpperCase(Locale.ROOT);
            if (!ROLES.contains(role)) {
                throw new IllegalStateException(key + ".role must be one of VIEWER, OPERATOR, ADMIN, APP, APPROVER; was '" + entry.role() + "'");
            }
            if (blank(entry.username()) || blank(entry.password())) {
                throw new IllegalStateException(key + " needs a username and a password");
            }
            add(accounts, encoder, new Account(entry.username(), entry.password()), role, key);
        }
        return accounts;
    }

    private static void add(List<UserDetails> accounts, PasswordEncoder encoder, Account account, String role, String key) {
        if (account == null || blank(account.username()) || blank(account.password())) {
            return;
        }
        if (Secrets.hasEdgeSpace(account.password()) || Secrets.hasEdgeSpace(account.username())) {
            throw new IllegalStateException(key + (Secrets.hasEdgeSpace(account.password()) ? ".password " : ".username ")
                    + Secrets.EDGE_SPACE);
        }
        if (accounts.stream().anyMatch(existing -> existing.getUsername().equals(account.username()))) {
            throw new IllegalStateException(key + ".username '" + account.username() + "' is defined twice");
        }
        // A password written as {bcrypt}… is already encoded; anything else is a plain value from the environment. A plain
        // password that merely starts with "{" ("{Winter}2024") was taken as encoded: startup passed, every login then failed.
        String password = encoded(account.password()) ? account.password() : encoder.encode(account.password());
        if (password.startsWith("{bcrypt}") && !BCRYPT.matcher(password.substring("{bcrypt}".length())).matches()) {
            // Spring would start with it and refuse every login with this password ("Encoded password does not look like BCrypt").
            throw new IllegalStateException(key + ".password is written as {bcrypt}… but what follows is no BCrypt hash ($2a$, $2b$ or"
                    + " $2y$, a cost of two digits, $ and 53 characters): paste the whole hash, or give the password in plain");
        }
        accounts.add(User.withUsername(account.username()).password(password).roles(role).build());
    }

    /** Whether the password is {id}… with an id the delegating encoder knows, i.e. already encoded. */
    static boolean encoded(String password) {
        int end = password.indexOf('}');
        return password.startsWith("{") && end > 1 && ENCODER_IDS.contains(password.substring(1, end));
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
