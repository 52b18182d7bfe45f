package io.herald.config;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.access.hierarchicalroles.RoleHierarchy;
import org.springframework.security.access.hierarchicalroles.RoleHierarchyImpl;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * Who may see and do what. Roles: VIEWER reads the console (sensitive values masked),
 * OPERATOR also acts (retry, re-drive, dismiss, resend) and uses the /api, ADMIN also has
 * Hawtio, Jolokia, the actuator and the configuration page. Webhooks authenticate by their signature, not by a user,
 * so they are open here and verified in the route. Health and Prometheus metrics (counts, no
 * personal data) are open for probes and scrapers.
 */
@Configuration
@EnableConfigurationProperties(HeraldUsers.class)
public class HeraldSecurity {

    @Bean
    SecurityFilterChain heraldFilterChain(HttpSecurity http) throws Exception {
        // Browser sessions (the console) carry CSRF tokens in every form. API clients (scripts, curl)
        // authenticate on each request with an Authorization header and hold no session, so CSRF
        // cannot ride on them; webhooks are signed.
        http.csrf(csrf -> csrf.ignoringRequestMatchers("/webhooks/**", "/actuator/jolokia/**")
                .ignoringRequestMatchers(request -> request.getRequestURI().startsWith("/api/")
                        && request.getHeader("Authorization") != null));
        http.authorizeHttpRequests(auth -> auth
                .requestMatchers("/webhooks/**").permitAll()
                .requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/info", "/actuator/prometheus").permitAll()
                .requestMatchers("/login", "/error", "/console.css").permitAll()
                .requestMatchers("/actuator/**", "/console/config").hasRole("ADMIN")
                .requestMatchers(HttpMethod.GET, "/console", "/console/**").hasRole("VIEWER")
                .requestMatchers("/console/**").hasRole("OPERATOR")
                .requestMatchers("/api/**").hasRole("OPERATOR")
                .anyRequest().authenticated());
        http.formLogin(form -> form.loginPage("/login").defaultSuccessUrl("/console", false));
        http.logout(logout -> logout.logoutSuccessUrl("/login?logout"));
        http.httpBasic(Customizer.withDefaults());
        // Hawtio renders inside frames of its own origin.
        http.headers(headers -> headers.frameOptions(frame -> frame.sameOrigin()));
        return http.build();
    }

    /** An admin may do what an operator may, an operator what a viewer may. */
    @Bean
    static RoleHierarchy heraldRoles() {
        return RoleHierarchyImpl.fromHierarchy("ROLE_ADMIN > ROLE_OPERATOR\nROLE_OPERATOR > ROLE_VIEWER");
    }

    @Bean
    UserDetailsService heraldUsers(HeraldUsers users) {
        return new InMemoryUserDetailsManager(users.accounts());
    }
}
