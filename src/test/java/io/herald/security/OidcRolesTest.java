package io.herald.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.security.core.GrantedAuthority;

/** Roles from the configured claim, as providers shape it; settings that cannot work stop startup naming the key. */
class OidcRolesTest {

    @Test
    void rolesComeFromANestedListClaimThroughTheMappingAndUnknownValuesGrantNothing() {
        OidcRoles roles = new OidcRoles(settings("realm_access.roles", Map.of("herald-admins", "ADMIN", "support", "viewer")));
        Map<String, Object> keycloakShaped = Map.of("sub", "8f2c", "realm_access", Map.of("roles", List.of("offline_access", "herald-admins", "support")));
        assertThat(names(roles.authorities(keycloakShaped))).containsExactly("ROLE_ADMIN", "ROLE_VIEWER");
        // With a mapping, a value that merely spells a role name is not taken as one.
        assertThat(roles.authorities(Map.of("realm_access", Map.of("roles", List.of("ADMIN"))))).isEmpty();
        assertThat(roles.authorities(Map.of("sub", "8f2c"))).isEmpty();
    }

    @Test
    void withoutAMappingTheValuesAreHeraldsRoleNamesInOneStringOrAList() {
        OidcRoles roles = new OidcRoles(settings("roles", Map.of()));
        assertThat(names(roles.authorities(Map.of("roles", "operator app")))).containsExactly("ROLE_OPERATOR", "ROLE_APP");
        assertThat(names(roles.authorities(Map.of("roles", List.of("viewer", "superuser"))))).containsExactly("ROLE_VIEWER");
        assertThat(roles.claimedName(Map.of("sub", "8f2c", "preferred_username", "olivia"))).isEqualTo("olivia");
        assertThat(roles.claimedName(Map.of("sub", "8f2c", "preferred_username", " "))).isNull();
        assertThat(roles.claimedName(Map.of("sub", "8f2c"))).isNull();
    }

    @Test
    void settingsThatCannotWorkNameTheirKey() {
        assertThatThrownBy(() -> new OidcSettings("https://login.example.com/realms/ops", "", "", null, null, null, null, null).validated())
                .hasMessageContaining("herald.security.oidc.client-id");
        assertThatThrownBy(() -> settings("roles", Map.of("herald-admins", "ROOT")).validated())
                .hasMessageContaining("herald.security.oidc.role-mapping.herald-admins").hasMessageContaining("ROOT");
        assertThatThrownBy(() -> new AppClient("short").validated()).hasMessageContaining("herald.security.app.api-key");
        assertThat(new OidcSettings(null, null, null, null, null, null, null, null).validated().enabled()).isFalse();
    }

    private static OidcSettings settings(String claim, Map<String, String> mapping) {
        return new OidcSettings("https://login.example.com/realms/ops", "herald", "secret", claim, mapping, null, null, null);
    }

    private static List<String> names(java.util.Set<GrantedAuthority> authorities) {
        return authorities.stream().map(GrantedAuthority::getAuthority).toList();
    }
}
