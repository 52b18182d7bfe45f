package io.herald.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a provider's 2xx answer says: its message id (the channel's idField), or, when the answer cannot be read or lacks it,
 * a reason in words for the SENT record. The send is still SENT (the provider's status accepted it), but such an answer used
 * to be dropped with a debug line: the row looked like any other with its id blank, its receipts then matched nothing, and a
 * herald.sms.url pointing at a gateway's page that answers 200 to anything showed every SMS as sent.
 *
 * @param providerId the id the provider gave, or null
 * @param note       why there is none (null when there is one, or when the channel keeps no id)
 */
public record ProviderAnswerRead(String providerId, String note) {

    public static ProviderAnswerRead of(ObjectMapper json, String channel, Integer status, String contentType, String idField, String answer) {
        if (idField == null || idField.isBlank()) {
            return new ProviderAnswerRead(null, null);
        }
        String accepted = "the provider accepted it (HTTP " + status + ") but ";
        String hint = ": its delivery receipts cannot be matched to it. If every " + channel + " says this, check that herald."
                + channel.replace('_', '-') + ".url is the provider's address";
        if (answer == null || answer.isBlank()) {
            return new ProviderAnswerRead(null, accepted + "its answer was empty, so it gave no message id (" + idField + ")" + hint);
        }
        JsonNode read;
        try {
            read = json.readTree(answer);
        } catch (Exception notJson) {
            read = null;
        }
        if (read == null || !read.isObject()) {
            String type = contentType == null || contentType.isBlank() ? "no content type" : contentType.split(";")[0].strip();
            return new ProviderAnswerRead(null, accepted + "its answer could not be read (" + type + ", " + answer.length()
                    + " characters, not JSON), so it gave no message id (" + idField + ")" + hint);
        }
        JsonNode id = read.get(idField);
        if (id == null || id.isNull() || id.isContainerNode() || id.asText().isBlank()) {
            return new ProviderAnswerRead(null, accepted + "its answer has no message id (" + idField + ")" + hint);
        }
        return new ProviderAnswerRead(id.asText(), null);
    }
}
