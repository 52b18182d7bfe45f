package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.net.UnknownHostException;

import jakarta.mail.MessagingException;

import org.junit.jupiter.api.Test;

/**
 * A delivery that failed for a reason Herald cannot explain (a bug, an error nobody foresaw) says so in words in the
 * ledger and the console, without the error's name or raw text (it can hold SQL, addresses or a provider's internals):
 * only that it was not the provider's answer, where its details are, and what to do.
 */
class UnexpectedErrorReasonTest {

    @Test
    void anUnforeseenErrorIsNamedAndPointedToNotCopied() {
        IllegalStateException bug = new IllegalStateException("SELECT * FROM customer WHERE email = 'jenny.rosen@example.com' failed");
        String reason = ProviderErrors.readable(bug);
        assertThat(reason).isEqualTo("an unexpected error inside Herald, not an answer from the provider; Herald's log has its"
                + " details on the line with this delivery's id; retry the delivery once the cause is fixed");
        assertThat(reason).doesNotContain("SELECT", "jenny", "example.com", "Exception");
        assertThat(ProviderErrors.unexpected(bug)).isTrue();
    }

    @Test
    void theMailServersAnswerAndAnUnresolvableHostAreKnownConditionsInTheirOwnWords() {
        // Angus Mail puts the SMTP server's reply in the message (here a refusal after DATA, as UncertainEmailTest's server answers).
        MessagingException refused = new MessagingException("554 5.7.1 Message rejected as spam\n");
        assertThat(ProviderErrors.readable(new IllegalStateException("wrapped", refused)))
                .isEqualTo("the mail server answered 554 5.7.1 Message rejected as spam");
        assertThat(ProviderErrors.unexpected(refused)).isFalse();
        // A mail error without a reply code is not the server's answer: what caused it speaks (here, nobody listening).
        MessagingException noServer = new MessagingException("Couldn't connect to host, port: localhost, 2525", new ConnectException("Connection refused"));
        assertThat(ProviderErrors.readable(noServer)).startsWith("provider unreachable (connection refused)");
        assertThat(ProviderErrors.readable(new UnknownHostException("sms.example.invalid")))
                .isEqualTo("provider unreachable: its host name sms.example.invalid does not resolve (check herald.<channel>.url or DNS)");
    }

    @Test
    void aKnownConditionKeepsItsOwnWordsAndIsNotLoggedAsUnexpected() {
        ConnectException refused = new ConnectException("Connection refused");
        assertThat(ProviderErrors.readable(refused)).startsWith("provider unreachable (connection refused)");
        assertThat(ProviderErrors.unexpected(refused)).isFalse();
        assertThat(ProviderErrors.unexpected(null)).isFalse();
    }
}
