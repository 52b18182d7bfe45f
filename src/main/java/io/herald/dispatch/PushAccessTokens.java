package io.herald.dispatch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ServiceAccountCredentials;
import io.herald.config.PushSettings;
import org.springframework.stereotype.Component;

/**
 * The bearer token of the push calls. FCM HTTP v1 takes only short-lived OAuth 2.0 access tokens (about an hour), minted from
 * a Firebase service account: with herald.push.service-account-file set, Google's auth library (google-auth-library) signs
 * the service account's assertion, fetches a token from the account's token_uri, and a new one is fetched before the old one
 * expires, or at once after FCM answered 401 ({@link #refused}). Without it, herald.push.access-token is used as it is (a
 * sandbox, or a token another process keeps fresh). A file that cannot be read or is no service account key stops startup
 * naming the setting.
 */
@Component
public class PushAccessTokens {

    static final String SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
    /**
     * The token this thread last took for a call: a 401's handling runs on the thread that made the call, and the circuit
     * breaker runs the call on a copy of the exchange, so nothing set on it there comes back.
     */
    private static final ThreadLocal<String> TAKEN = new ThreadLocal<>();

    private final GoogleCredentials credentials;
    private final String fixed;
    /** The token FCM last refused (401): while it is the current one, the next call fetches a new one. */
    private volatile String refused;

    public PushAccessTokens(PushSettings push) {
        this.fixed = push.accessToken();
        this.credentials = push.serviceAccountFile().isBlank() ? null : load(push.serviceAccountFile().strip());
    }

    private static GoogleCredentials load(String file) {
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            return ServiceAccountCredentials.fromStream(in).createScoped(List.of(SCOPE));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("herald.push.service-account-file (HERALD_PUSH_SERVICE_ACCOUNT_FILE) '" + file + "' is not a"
                    + " readable Firebase service account key (the JSON file the Firebase console's Service accounts page downloads): "
                    + e.getMessage(), e);
        }
    }

    /**
     * The token for the next call: fetched or renewed when it is missing or about to expire. The library fetches once for all
     * the callers that need it (they wait for that fetch; others go on with the token they have).
     */
    public String current() {
        if (credentials == null) {
            return fixed;
        }
        try {
            String refusedToken = refused;
            if (refusedToken != null && credentials.getAccessToken() != null
                    && refusedToken.equals(credentials.getAccessToken().getTokenValue())) {
                credentials.refresh();
            } else {
                credentials.refreshIfExpired();
            }
            String token = credentials.getAccessToken().getTokenValue();
            TAKEN.set(token);
            return token;
        } catch (IOException e) {
            throw new PushTokenUnavailable(e);
        }
    }

    /**
     * FCM answered 401 to the call this thread just made, with the token it took: that token is not taken (revoked, expired
     * early), so the next call fetches a new one, unless one newer than it is in use already (many calls refused at once
     * fetch one new token, not one each).
     */
    public void refused() {
        String token = TAKEN.get();
        if (credentials != null && token != null) {
            refused = token;
        }
    }

    /** The token endpoint did not give a token (unreachable, or it refused the service account): the push is not sent. */
    public static final class PushTokenUnavailable extends UncheckedIOException {
        PushTokenUnavailable(IOException cause) {
            super("the push provider's access token could not be fetched from the service account's token endpoint"
                    + " (herald.push.service-account-file)", cause);
        }
    }
}
