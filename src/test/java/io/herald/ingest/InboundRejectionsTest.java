package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/** What a rejection keeps is always storable, and a rejection that cannot be stored is answered 503, never lost as a 4xx. */
class InboundRejectionsTest {

    @Test
    void keptTextHasNoNulNoLoneSurrogateAndFitsItsColumn() {
        assertThat(InboundRejections.text("a\u0000b", 10)).isEqualTo("ab");
        assertThat(InboundRejections.text("x\uD800y\uDC00z", 10)).isEqualTo("x\uFFFDy\uFFFDz");
        assertThat(InboundRejections.text("\u0000".repeat(5) + "abcdef", 3)).isEqualTo("abc");
        // A character outside the BMP counts once, as PostgreSQL counts it, and is never cut in half.
        assertThat(InboundRejections.text("ab\uD83D\uDE00cd", 3)).isEqualTo("ab\uD83D\uDE00");
        assertThat(InboundRejections.text(null, 3)).isNull();
    }

    @Test
    void aRefusalThatCannotBeRecordedIsAnswered503SoTheSenderRetries() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        DriverManagerDataSource unreachable = new DriverManagerDataSource("jdbc:postgresql://127.0.0.1:" + closedPort + "/herald?connectTimeout=2");
        InboundRejections rejections = new InboundRejections(new JdbcTemplate(unreachable));

        InboundRejections.Answer answer = rejections.record("billing", 401, "missing Stripe-Signature header", "127.0.0.1",
                "application/json", 2, "{}".getBytes(), 2);

        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.reason()).isEqualTo("Herald could not record this request just now (its database is unavailable); please retry later");
        assertThat(answer.json()).startsWith("{\"status\":\"retry\"");
    }
}
