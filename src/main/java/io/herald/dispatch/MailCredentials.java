package io.herald.dispatch;

import org.apache.camel.component.mail.MailComponent;
import org.apache.camel.spi.ComponentCustomizer;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * SMTP credentials from herald.mail.username / password, applied only when set: camel-mail
 * attempts AUTH whenever a username is present, even an empty one, and an open relay or
 * mail catcher then refuses the message.
 */
@Configuration
public class MailCredentials {

    @Bean
    ComponentCustomizer smtpCredentials(@Value("${herald.mail.username:}") String username,
                                        @Value("${herald.mail.password:}") String password) {
        return ComponentCustomizer.builder(MailComponent.class).build(mail -> {
            if (!username.isBlank()) {
                mail.getConfiguration().setUsername(username);
                mail.getConfiguration().setPassword(password);
            }
        });
    }
}
