package io.herald.security;

import java.util.Collection;

import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.core.oidc.user.DefaultOidcUser;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;

/** A console login through the OIDC provider, under the name OidcNames gave it (which may be in none of its claims). */
class NamedOidcUser extends DefaultOidcUser {

    private final String name;

    NamedOidcUser(Collection<? extends GrantedAuthority> authorities, OidcUser user, String name) {
        super(authorities, user.getIdToken(), user.getUserInfo());
        this.name = name;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean equals(Object other) {
        return super.equals(other) && other instanceof NamedOidcUser named && name.equals(named.name);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + name.hashCode();
    }
}
