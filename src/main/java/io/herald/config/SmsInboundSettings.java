package io.herald.config;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.sms.inbound.*: messages customers text to Herald's SMS number (POST /webhooks/sms/inbound, Twilio-style).
 *
 * @param helpText the answer to a HELP (any case) texted to Herald's number, sent back as the TwiML reply: who you are, how to
 *                 reach support, and that STOP ends the messages (at most 1600 characters, Twilio's limit for one message)
 */
@Validated
@ConfigurationProperties("herald.sms.inbound")
public record SmsInboundSettings(@NotBlank @Size(max = 1600) @DefaultValue("Herald account notifications. For help contact"
        + " support through your account page. Reply STOP to stop SMS notifications, START to receive them again.") String helpText) {
}
