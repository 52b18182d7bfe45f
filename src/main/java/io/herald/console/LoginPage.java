package io.herald.console;

import io.herald.security.OidcSettings;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * Herald's own sign-in page (Spring Security's form login posts to /login; HeraldSecurity points its
 * loginPage here). It says what went wrong ("?error"), that the user logged out ("?logout"), and that the browser's
 * sign-in is not known to the instance that answered ("?unknown-session", SignInNotKnownHere).
 */
@Controller
public class LoginPage {

    private final boolean singleSignOn;

    public LoginPage(OidcSettings oidc) {
        this.singleSignOn = oidc.enabled();
    }

    /** The sign-in form, and the "Single sign-on" link to the OIDC provider when one is configured (herald.security.oidc.*). */
    @GetMapping("/login")
    public String login(Model model) {
        model.addAttribute("singleSignOn", singleSignOn);
        model.addAttribute("instance", io.herald.web.InstanceName.NAME);
        return "login";
    }
}
