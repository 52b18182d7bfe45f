package io.herald.security;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserRequest;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserService;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.client.registration.ClientRegistrations;
import org.springframework.security.oauth2.client.registration.InMemoryClientRegistrationRepository;
import org.springframework.security.oauth2.client.userinfo.OAuth2UserService;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.SupplierJwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

/**
 * The OIDC provider as Herald uses it: a browser login (authorization code flow, registration "herald")
 * and the verification of Bearer JWTs on the API, both with roles from the configured claim.
 */
public class OidcLogin {

    public static final String REGISTRATION = "herald";

    private final OidcSettings settings;
    private final OidcRoles roles;
    private final OidcNames names;
    /** Where herald.security.oidc.issuer-uri was set (UnknownSettings.where), for the refusal below. */
    private final String issuerSetIn;

    public OidcLogin(OidcSettings settings, OidcRoles roles, OidcNames names, String issuerSetIn) {
        this.settings = settings;
        this.roles = roles;
        this.names = names;
        this.issuerSetIn = issuerSetIn;
    }

    /** Read from the provider's discovery document at startup; a provider that cannot be read stops startup, naming the key. */
    public ClientRegistrationRepository registrations() {
        ClientRegistration.Builder builder;
        try {
            builder = ClientRegistrations.fromIssuerLocation(settings.issuerUri());
        } catch (RuntimeException e) {
            throw new IllegalStateException("herald.security.oidc.issuer-uri (" + issuerSetIn + ") " + settings.issuerUri()
                    + " answered no OIDC discovery document (" + settings.issuerUri() + "/.well-known/openid-configuration);"
                    + " check the address and that the provider is up", e);
        }
        return new InMemoryClientRegistrationRepository(builder.registrationId(REGISTRATION)
                .clientId(settings.clientId().strip())
                .clientSecret(settings.clientSecret().strip())
                .clientName("Single sign-on")
                .scope("openid", "profile", "email")
                .build());
    }

    /**
     * The ID token's (and user info's) claims give the roles and the name the console shows: the username claim, else the
     * name last seen for the subject, else the subject (OidcNames).
     */
    public OAuth2UserService<OidcUserRequest, OidcUser> userService() {
        OidcUserService standard = new OidcUserService();
        return request -> {
            OidcUser user = standard.loadUser(request);
            Set<GrantedAuthority> authorities = new LinkedHashSet<>(roles.authorities(user.getClaims()));
            String name = names.nameOf(user.getSubject(), roles.claimedName(user.getClaims()));
            return new NamedOidcUser(authorities, user, name);
        };
    }

    /**
     * Keys fetched on first use, so the API starts while the provider is briefly away. Issuer, expiry and audience are
     * checked: the token's aud must name herald.security.oidc.audience or, when that is blank, Herald's client id, so a
     * token the same provider issued to another application is not taken by Herald's API.
     */
    public JwtDecoder jwtDecoder() {
        return new SupplierJwtDecoder(() -> {
            NimbusJwtDecoder decoder = NimbusJwtDecoder.withIssuerLocation(settings.issuerUri()).build();
            String audience = (OidcSettings.blank(settings.audience()) ? settings.clientId() : settings.audience()).strip();
            OAuth2TokenValidator<Jwt> validator = new DelegatingOAuth2TokenValidator<>(JwtValidators.createDefaultWithIssuer(settings.issuerUri()),
                    new JwtClaimValidator<List<String>>(JwtClaimNames.AUD, aud -> aud != null && aud.contains(audience)));
            decoder.setJwtValidator(validator);
            return decoder;
        });
    }

    public JwtAuthenticationToken authentication(Jwt jwt) {
        return new JwtAuthenticationToken(jwt, roles.authorities(jwt.getClaims()), names.nameOf(jwt.getSubject(), roles.claimedName(jwt.getClaims())));
    }
}
