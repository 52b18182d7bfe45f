package io.herald.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.identity.*: how events are matched to customers.
 *
 * @param matchByEmail whether an event that carries no customer id, only an email (a Stripe guest charge, an invoice's
 *                     customer_email), is matched to the one customer with that email; false: it is quarantined for an
 *                     operator to assign, since anyone can type another person's email at a checkout
 */
@Validated
@ConfigurationProperties("herald.identity")
public record IdentitySettings(@DefaultValue("false") boolean matchByEmail) {
}
