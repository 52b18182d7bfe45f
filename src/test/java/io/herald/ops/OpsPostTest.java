package io.herald.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** What Herald posts to the ops webhook shows text quoted from events as text, never as Slack markup. */
class OpsPostTest {

    @Test
    void slacksControlCharactersAreEscapedSoQuotedTextCannotMentionTheChannelOrHideALink() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String body = OpsPost.body(json, "Quarantined: customer cus_1<!channel> & <https://evil.example|your invoice>\nConsole: x?a=1&b=2");
        assertThat(json.readTree(body).get("text").asText()).isEqualTo(
                "Quarantined: customer cus_1&lt;!channel&gt; &amp; &lt;https://evil.example|your invoice&gt;\nConsole: x?a=1&amp;b=2");
    }
}
