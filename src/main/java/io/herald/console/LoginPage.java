package io.herald.console;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * Herald's own sign-in page (Spring Security's form login posts to /login; HeraldSecurity points its
 * loginPage here). It says what went wrong ("?error") and that the user logged out ("?logout").
 */
@Controller
public class LoginPage {

    @GetMapping("/login")
    public String login() {
        return "login";
    }
}
