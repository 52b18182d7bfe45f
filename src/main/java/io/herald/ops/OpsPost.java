package io.herald.ops;

import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The body of a post to the ops webhook (a Slack-style incoming webhook): {"text": ...}, with Slack's three control
 * characters escaped (&amp; &lt; &gt;). Herald's posts quote what events and providers carry (a ticket subject, a
 * quarantined field, a provider's answer); unescaped, "&lt;!channel&gt;" in one of them would notify the whole channel and
 * "&lt;https://…|text&gt;" would show a link under other words. Herald's own posts use no Slack markup that needs them.
 */
public final class OpsPost {

    private OpsPost() {
    }

    public static String body(ObjectMapper json, String text) throws JsonProcessingException {
        return json.writeValueAsString(Map.of("text", escaped(text)));
    }

    static String escaped(String text) {
        return text == null ? "" : text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
