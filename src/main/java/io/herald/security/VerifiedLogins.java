package io.herald.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.core.GrantedAuthority;

/**
 * Remembers, for a few minutes, that a login's password was checked: a script calling the API with HTTP Basic sends its
 * password with every request, and each check of a BCrypt hash costs about 70 ms of CPU (Spring checks it again each time),
 * so a script's hundred calls cost seven seconds of a core. A login checked here within {@link #REMEMBERED} is let in by
 * comparing a keyed digest of the password it sends (HMAC-SHA-256, a key drawn at start and held in memory only) with the
 * digest of the password that passed; anything else (another password, a name not seen, a remembered login expired) goes to
 * the real check. Only passwords that passed are remembered, one entry per login name, so the map holds at most the accounts
 * Herald has; the accounts come from configuration, so a changed password or a removed account takes a restart, which
 * forgets everything.
 */
public final class VerifiedLogins implements AuthenticationProvider {

    /** How long a checked password is remembered. */
    static final Duration REMEMBERED = Duration.ofMinutes(10);

    private final AuthenticationProvider check;
    private final Clock clock;
    private final SecretKeySpec key;
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();

    private record Remembered(byte[] digest, Object user, Collection<? extends GrantedAuthority> roles, Instant until) {
    }

    public VerifiedLogins(AuthenticationProvider check) {
        this(check, Clock.systemUTC());
    }

    VerifiedLogins(AuthenticationProvider check, Clock clock) {
        this.check = check;
        this.clock = clock;
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    @Override
    public Authentication authenticate(Authentication request) throws AuthenticationException {
        if (!(request.getCredentials() instanceof String password) || request.getName() == null) {
            return check.authenticate(request);
        }
        byte[] digest = digest(request.getName(), password);
        Remembered known = remembered.get(request.getName());
        Instant now = clock.instant();
        if (known != null && now.isBefore(known.until()) && MessageDigest.isEqual(known.digest(), digest)) {
            // A new token each time: the request's own details (address, session), the checked login's user and roles.
            UsernamePasswordAuthenticationToken again = UsernamePasswordAuthenticationToken.authenticated(known.user(), null,
                    known.roles());
            again.setDetails(request.getDetails());
            return again;
        }
        Authentication login = check.authenticate(request);
        if (login != null && login.isAuthenticated()) {
            remembered.put(request.getName(), new Remembered(digest, login.getPrincipal(), login.getAuthorities(),
                    now.plus(REMEMBERED)));
        }
        return login;
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return check.supports(authentication);
    }

    private byte[] digest(String name, String password) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update(name.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            return mac.doFinal(password.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
