package io.herald.security;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * Herald's roles from a token's claims. The claim may be nested (realm_access.roles) and hold a list or
 * one string (values separated by spaces or commas). A value that maps to no role grants nothing: a
 * token without a Herald role is authenticated but refused everywhere (403).
 */
public class OidcRoles {

    private final OidcSettings settings;

    public OidcRoles(OidcSettings settings) {
        this.settings = settings;
    }

    public Set<GrantedAuthority> authorities(Map<String, Object> claims) {
        Set<GrantedAuthority> roles = new LinkedHashSet<>();
        for (String value : values(claim(claims, settings.rolesClaim()))) {
            String role = settings.roleMapping().isEmpty() ? value.toUpperCase(Locale.ROOT) : mapped(value);
            if (role != null && OidcSettings.ROLES.contains(role)) {
                roles.add(new SimpleGrantedAuthority("ROLE_" + role));
            }
        }
        return roles;
    }

    /** The name the token's username claim gives, or null when it has none (OidcNames then finds one). */
    public String claimedName(Map<String, Object> claims) {
        Object name = claims.get(settings.usernameClaim());
        return name == null || name.toString().isBlank() ? null : name.toString();
    }

    private String mapped(String value) {
        String role = settings.roleMapping().get(value);
        return role == null ? null : role.strip().toUpperCase(Locale.ROOT);
    }

    private static Object claim(Map<String, Object> claims, String path) {
        Object current = claims;
        for (String part : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(part);
        }
        return current;
    }

    private static List<String> values(Object claim) {
        List<String> values = new ArrayList<>();
        if (claim instanceof Collection<?> list) {
            list.forEach(value -> values.addAll(values(value)));
        } else if (claim != null) {
            for (String value : claim.toString().split("[\\s,]+")) {
                if (!value.isBlank()) {
                    values.add(value.strip());
                }
            }
        }
        return values;
    }
}
