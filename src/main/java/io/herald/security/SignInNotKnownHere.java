package io.herald.security;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;

/**
 * A browser that needs to sign in while it carries a session this instance does not know. A console sign-in is kept in
 * the memory of the instance it was made on: with several Herald instances behind a load balancer that does not keep a
 * browser on one instance (sticky sessions), every other click reached an instance that knew nothing of it and showed the
 * bare sign-in page, and what was clicked (a retry, a dismissal) was not done, without a word why. The sign-in page now
 * says so ("/login?unknown-session", LoginPage); a session that ended (idle, a restart) reads the same to the instance,
 * so the words cover both.
 */
public final class SignInNotKnownHere extends LoginUrlAuthenticationEntryPoint {

    public static final String LOGIN_PAGE = "/login?unknown-session";

    public SignInNotKnownHere() {
        super("/login");
    }

    /** A page a browser asked for (not a script's call) with a session cookie this instance holds no session for. */
    public static boolean applies(HttpServletRequest request) {
        String accept = request.getHeader("Accept");
        return request.getRequestedSessionId() != null && !request.isRequestedSessionIdValid()
                && !"XMLHttpRequest".equals(request.getHeader("X-Requested-With"))
                && accept != null && accept.contains("text/html");
    }

    /**
     * The sign-in page, with the words when the session is unknown here. (Spring Security makes the first entry point
     * registered the default for requests no entry point claims: for those this is the plain sign-in page, as before.)
     */
    @Override
    protected String determineUrlToUseForThisRequest(HttpServletRequest request, HttpServletResponse response,
                                                     AuthenticationException refused) {
        return applies(request) ? LOGIN_PAGE : "/login";
    }
}
