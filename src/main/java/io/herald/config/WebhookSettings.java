package io.herald.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.support.*, herald.billing.* and herald.incidents.*: the authenticated webhooks Herald receives.
 *
 * @param support     the support system's (Zendesk-style) webhook
 * @param billing     the billing system's (Stripe-style) webhook
 * @param incidents   Prometheus Alertmanager's incident webhook
 * @param emailEvents the email provider's signed event webhook (SendGrid-style delivery receipts)
 */
@Validated
@ConfigurationProperties("herald")
public record WebhookSettings(@Valid @DefaultValue Source support, @Valid @DefaultValue Source billing,
                              @Valid @DefaultValue Incidents incidents, @Valid @DefaultValue EmailEvents emailEvents) {

    /**
     * @param verificationKey the Event Webhook's verification key (ECDSA P-256 public key, base64 DER, as the provider shows it);
     *                        blank: every email event request is refused
     */
    public record EmailEvents(@NotNull @DefaultValue("") String verificationKey) {
    }

    /**
     * @param token the bearer token Alertmanager sends (its receiver's http_config.authorization.credentials); blank: every
     *              incident request is refused
     */
    public record Incidents(@NotNull @DefaultValue("") String token) {
    }

    /**
     * @param webhookSecret             the shared secret the requests are signed with (billing: Stripe's whsec_...)
     * @param signatureToleranceSeconds older or future-dated signatures are refused
     */
    public record Source(@NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String webhookSecret,
                         @Positive @DefaultValue("300") long signatureToleranceSeconds) {
    }
}
