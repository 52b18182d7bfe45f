package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.security.core.userdetails.UserDetails;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * A password from the environment logs in as written: one that is plain but starts with "{" is encoded like any plain
 * password (it was taken as already encoded, and every login then failed with "There is no password encoder mapped for
 * the id"); one written {bcrypt}… or {noop}… is kept as it is.
 */
class HeraldUsersTest {

    /** What the login checks a password against, as in HeraldSecurity. */
    private final PasswordEncoder login = PasswordEncoderFactories.createDelegatingPasswordEncoder();

    private static UserDetails only(HeraldUsers users) {
        List<UserDetails> accounts = users.accounts();
        assertThat(accounts).hasSize(1);
        return accounts.get(0);
    }

    private static HeraldUsers admin(String password) {
        return new HeraldUsers(new HeraldUsers.Account("ada", password), null, null, null);
    }

    @Test
    void aPlainPasswordStartingWithABraceLogsIn() {
        for (String plain : List.of("{Winter}2024!", "{abc", "{}x", "{bcrypt", "{BCRYPT}secret")) {
            UserDetails account = only(admin(plain));
            assertThat(login.matches(plain, account.getPassword())).as(plain).isTrue();
            assertThat(login.matches("something else", account.getPassword())).as(plain).isFalse();
        }
    }

    @Test
    void aListedUsersPlainPasswordStartingWithABraceLogsIn() {
        HeraldUsers users = new HeraldUsers(null, null, null,
                new HeraldUsers.Security(List.of(new HeraldUsers.Entry("grace", "{curly}pass", "approver"))));
        assertThat(login.matches("{curly}pass", only(users).getPassword())).isTrue();
    }

    @Test
    void anEncodedPasswordIsKeptAsWritten() {
        String bcrypt = login.encode("s3cret-Pass");
        assertThat(bcrypt).startsWith("{bcrypt}");
        assertThat(only(admin(bcrypt)).getPassword()).isEqualTo(bcrypt);
        assertThat(login.matches("s3cret-Pass", only(admin(bcrypt)).getPassword())).isTrue();
        assertThat(only(admin("{noop}plain-one")).getPassword()).isEqualTo("{noop}plain-one");
        assertThat(login.matches("plain-one", only(admin("{noop}plain-one")).getPassword())).isTrue();
    }

    /**
     * A {bcrypt} value that is no BCrypt hash (cut when pasted, say) stops startup naming the setting: it started, and every
     * login with it was refused.
     */
    @Test
    void aBrokenBcryptHashStopsStartupNamingTheSetting() {
        String hash = login.encode("s3cret-Pass");
        for (String broken : List.of("{bcrypt}junk", hash.substring(0, hash.length() - 1))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> admin(broken).accounts()).as(broken)
                    .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("herald.admin.password is written as {bcrypt}… but"
                            + " what follows is no BCrypt hash");
        }
    }

    /** Every id the login's encoder knows is taken as encoded: the list in HeraldUsers is not missing one. */
    @Test
    void theEncodedIdsAreTheOnesTheLoginKnows() {
        for (String id : HeraldUsers.ENCODER_IDS) {
            assertThat(HeraldUsers.encoded("{" + id + "}x")).as(id).isTrue();
            try {
                login.matches("x", "{" + id + "}not-a-hash");
            } catch (RuntimeException e) {
                // a malformed hash may be refused; an id the encoder does not know is the mistake looked for
                assertThat(e.getMessage()).as(id).doesNotContain("mapped for the id");
            }
        }
        assertThat(catchThrowable(() -> login.matches("x", "{Winter}2024"))).hasMessageContaining("mapped for the id");
        assertThat(HeraldUsers.encoded("{Winter}2024")).isFalse();
        assertThat(HeraldUsers.encoded("{}")).isFalse();
        assertThat(HeraldUsers.encoded("plain")).isFalse();
    }

    /**
     * A listed user's role written in lower case (role: admin) is that role in a container run with LANG=tr_TR.UTF-8:
     * upper-cased in Turkish it was "ADMİN", and Herald refused to start ("role must be one of ...; was 'admin'").
     */
    @Test
    void aLowerCaseRoleIsThatRoleInATurkishLocale() {
        java.util.Locale before = java.util.Locale.getDefault();
        java.util.Locale.setDefault(java.util.Locale.forLanguageTag("tr-TR"));
        try {
            for (String role : List.of("admin", "viewer", "approver", "operator", "app")) {
                HeraldUsers users = new HeraldUsers(null, null, null,
                        new HeraldUsers.Security(List.of(new HeraldUsers.Entry("grace", "pass-word-1", role))));
                assertThat(only(users).getAuthorities()).extracting(Object::toString).as(role)
                        .containsExactly("ROLE_" + role.toUpperCase(java.util.Locale.ROOT));
            }
        } finally {
            java.util.Locale.setDefault(before);
        }
    }
}
