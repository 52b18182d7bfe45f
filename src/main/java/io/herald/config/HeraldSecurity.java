package io.herald.config;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * Who may see what. Webhooks authenticate by their signature, not by a user, so they are
 * open here and verified in the route. Hawtio, Jolokia and the actuator need the admin
 * login (from the environment) except in the local profile, where open-console is true.
 */
@Configuration
public class HeraldSecurity {

    @Bean
    SecurityFilterChain heraldFilterChain(HttpSecurity http,
                                          @Value("${herald.security.open-console:false}") boolean openConsole) throws Exception {
        if (openConsole) {
            http.csrf(csrf -> csrf.disable());   // local profile only: no users, so nothing for CSRF to protect
        } else {
            // API clients (scripts, curl) authenticate on every request with an Authorization header and
            // hold no session, so they are not exposed to CSRF; browser sessions (the console) are.
            http.csrf(csrf -> csrf.ignoringRequestMatchers("/webhooks/**", "/actuator/jolokia/**")
                    .ignoringRequestMatchers(request -> request.getRequestURI().startsWith("/api/")
                            && request.getHeader("Authorization") != null));
        }
        http.authorizeHttpRequests(auth -> {
            auth.requestMatchers("/webhooks/**").permitAll();
            auth.requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/info").permitAll();
            auth.requestMatchers("/actuator/prometheus").permitAll();   // metrics scrapers hold no login
            if (openConsole) {
                auth.anyRequest().permitAll();
            } else {
                auth.requestMatchers("/actuator/**").hasRole("ADMIN");
                auth.requestMatchers("/api/**").hasAnyRole("ADMIN", "OPERATOR");
                auth.anyRequest().authenticated();
            }
        });
        http.httpBasic(Customizer.withDefaults());
        // Hawtio renders inside frames of its own origin.
        http.headers(headers -> headers.frameOptions(frame -> frame.sameOrigin()));
        return http.build();
    }

    @Bean
    UserDetailsService heraldUsers(@Value("${herald.admin.username:}") String username,
                                   @Value("${herald.admin.password:}") String password) {
        InMemoryUserDetailsManager users = new InMemoryUserDetailsManager();
        if (!username.isBlank() && !password.isBlank()) {
            users.createUser(User.withUsername(username)
                    .password(PasswordEncoderFactories.createDelegatingPasswordEncoder().encode(password))
                    .roles("ADMIN")
                    .build());
        }
        return users;
    }
}
