package io.herald.security;

import java.util.List;

import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;

/**
 * "Authorization: Bearer …" on any path: the in-app client's API key (role APP), else, with OIDC on,
 * a JWT from the provider (signature, issuer, expiry and, if configured, audience checked; roles from
 * the claim). Anything else is refused with 401.
 */
public class BearerTokens implements AuthenticationManager {

    private final AppClient app;
    private final AuthenticationManager jwts;

    /** jwts: null when OIDC is off. */
    public BearerTokens(AppClient app, AuthenticationManager jwts) {
        this.app = app;
        this.jwts = jwts;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        String token = ((BearerTokenAuthenticationToken) authentication).getToken();
        if (app.matches(token)) {
            return UsernamePasswordAuthenticationToken.authenticated("in-app client", null, List.of(new SimpleGrantedAuthority("ROLE_APP")));
        }
        if (jwts == null) {
            throw new InvalidBearerTokenException("unknown bearer token");
        }
        return jwts.authenticate(authentication);
    }
}
