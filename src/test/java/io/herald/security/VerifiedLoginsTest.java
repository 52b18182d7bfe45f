package io.herald.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import io.herald.testsupport.MovableClock;
import org.junit.jupiter.api.Test;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.authentication.dao.DaoAuthenticationProvider;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;

/** Spring's own password check (BCrypt, the in-memory accounts), counted, behind VerifiedLogins. */
class VerifiedLoginsTest {

    private final PasswordEncoder bcrypt = PasswordEncoderFactories.createDelegatingPasswordEncoder();
    private final AtomicInteger checks = new AtomicInteger();
    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-07T10:00:00Z"));
    private final VerifiedLogins logins = new VerifiedLogins(check(), clock);

    @Test
    void aScriptsRepeatedBasicLoginIsCheckedOnceAndKeepsItsRoles() {
        Authentication first = logins.authenticate(login("operator", "operator-demo"));
        Authentication again = logins.authenticate(login("operator", "operator-demo"));

        assertThat(checks).hasValue(1);
        assertThat(again.isAuthenticated()).isTrue();
        assertThat(again.getName()).isEqualTo("operator");
        assertThat(again.getCredentials()).as("no password kept with the login").isNull();
        assertThat(again.getAuthorities()).extracting(GrantedAuthority::getAuthority).containsExactly("ROLE_OPERATOR");
        assertThat(again.getAuthorities()).isEqualTo(first.getAuthorities());
        assertThat(again).as("each request its own login").isNotSameAs(first);
    }

    @Test
    void aWrongPasswordAfterTheRightOneIsStillRefused() {
        logins.authenticate(login("operator", "operator-demo"));

        assertThatThrownBy(() -> logins.authenticate(login("operator", "operator-dem0"))).isInstanceOf(BadCredentialsException.class);
        assertThatThrownBy(() -> logins.authenticate(login("viewer", "operator-demo"))).isInstanceOf(BadCredentialsException.class);
        assertThat(checks).as("each wrong password went to the real check").hasValue(3);
        assertThat(logins.authenticate(login("operator", "operator-demo")).isAuthenticated()).isTrue();
        assertThat(checks).as("the right one is still remembered").hasValue(3);
    }

    @Test
    void aRememberedLoginIsCheckedAgainAfterTenMinutes() {
        logins.authenticate(login("viewer", "viewer-demo"));
        clock.advance(VerifiedLogins.REMEMBERED.minusSeconds(1));
        logins.authenticate(login("viewer", "viewer-demo"));
        assertThat(checks).hasValue(1);

        clock.advance(Duration.ofSeconds(1));
        Authentication later = logins.authenticate(login("viewer", "viewer-demo"));

        assertThat(checks).hasValue(2);
        assertThat(later.getAuthorities()).extracting(GrantedAuthority::getAuthority).containsExactly("ROLE_VIEWER");
    }

    private static UsernamePasswordAuthenticationToken login(String name, String password) {
        return UsernamePasswordAuthenticationToken.unauthenticated(name, password);
    }

    private DaoAuthenticationProvider check() {
        InMemoryUserDetailsManager accounts = new InMemoryUserDetailsManager(
                User.withUsername("operator").password(bcrypt.encode("operator-demo")).roles("OPERATOR").build(),
                User.withUsername("viewer").password(bcrypt.encode("viewer-demo")).roles("VIEWER").build());
        DaoAuthenticationProvider check = new DaoAuthenticationProvider(accounts);
        check.setPasswordEncoder(new PasswordEncoder() {
            @Override
            public String encode(CharSequence raw) {
                return bcrypt.encode(raw);
            }

            @Override
            public boolean matches(CharSequence raw, String encoded) {
                checks.incrementAndGet();
                return bcrypt.matches(raw, encoded);
            }
        });
        return check;
    }
}
