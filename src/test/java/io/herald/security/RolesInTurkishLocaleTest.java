package io.herald.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import io.herald.testsupport.HostileLocale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.security.core.GrantedAuthority;

/**
 * Role names written in lower case (role: admin, an OIDC claim "viewer") mean the same role in a container run with
 * LANG=tr_TR.UTF-8: upper-cased in Turkish they were "ADMİN" and "VİEWER" (dotted capital I), no role at all, so the
 * token's user was refused everywhere (403) and a role mapping to "admin" stopped startup.
 */
class RolesInTurkishLocaleTest {

    @RegisterExtension
    static final HostileLocale TURKISH = new HostileLocale("tr-TR", "Europe/Istanbul");

    @Test
    void lowerCaseRoleNamesAreHeraldsRolesInATurkishLocale() {
        OidcRoles plain = new OidcRoles(settings(Map.of()));
        assertThat(names(plain.authorities(Map.of("roles", List.of("admin", "viewer", "approver", "operator", "app")))))
                .containsExactly("ROLE_ADMIN", "ROLE_VIEWER", "ROLE_APPROVER", "ROLE_OPERATOR", "ROLE_APP");
        OidcSettings mapped = settings(Map.of("herald-admins", "admin", "support", "viewer")).validated();
        assertThat(names(new OidcRoles(mapped).authorities(Map.of("roles", List.of("herald-admins", "support")))))
                .containsExactly("ROLE_ADMIN", "ROLE_VIEWER");
    }

    private static OidcSettings settings(Map<String, String> mapping) {
        return new OidcSettings("https://login.example.com/realms/ops", "herald", "secret", "roles", mapping, null, null, null);
    }

    private static List<String> names(java.util.Set<GrantedAuthority> authorities) {
        return authorities.stream().map(GrantedAuthority::getAuthority).toList();
    }
}
