package io.herald.receipts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Which of FCM HTTP v1's refusals say the token itself is dead, and which are about something else. */
class UnregisteredPushTokensTest {

    private final UnregisteredPushTokens tokens = new UnregisteredPushTokens(new ObjectMapper(), null, null, null, null);

    @Test
    void unregisteredAndATokenFieldViolationAreDeadTokens() {
        assertThat(tokens.deadTokenCode(404, """
                {"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":\
                "type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}""")).isEqualTo("UNREGISTERED");
        assertThat(tokens.deadTokenCode(400, """
                {"error":{"code":400,"message":"Invalid registration","status":"INVALID_ARGUMENT","details":[{"@type":\
                "type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration"}]}]}}"""))
                .isEqualTo("INVALID_ARGUMENT");
        assertThat(tokens.deadTokenCode(400, """
                {"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT",\
                "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}"""))
                .isEqualTo("INVALID_ARGUMENT");
    }

    @Test
    void otherRefusalsAreNot() {
        // A bad data value, a 404 for a wrong project (no FcmError), a sender mismatch, and answers not in FCM's shape.
        assertThat(tokens.deadTokenCode(400, """
                {"error":{"code":400,"message":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12","status":"INVALID_ARGUMENT",\
                "details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value",\
                "description":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12"}]}]}}""")).isNull();
        assertThat(tokens.deadTokenCode(404, """
                {"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}""")).isNull();
        assertThat(tokens.deadTokenCode(403, """
                {"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED","details":[{"@type":\
                "type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}""")).isNull();
        assertThat(tokens.deadTokenCode(400, "{\"error\": {\"status\": \"INVALID_ARGUMENT\", \"message\": \"The registration token is not valid\"}}"))
                .isNull();
        assertThat(tokens.deadTokenCode(404, "<html>Not Found</html>")).isNull();
        assertThat(tokens.deadTokenCode(404, "")).isNull();
    }
}
