package io.herald.dispatch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
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

    private final GoogleCredentials credentials;
    private final String fixed;
    /** FCM refused the token it was sent (401): the next call fetches a new one, whatever its expiry says. */
    private volatile boolean refused;

    public PushAccessTokens(PushSettings push) {
        this.fixed = push.accessToken();
        this.credentials = push.serviceAccountFile().isBlank() ? null : load(push.serviceAccountFile().strip());
    }

    private static GoogleCredentials load(String file) {
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            return GoogleCredentials.fromStream(in).createScoped(List.of(SCOPE));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("herald.push.service-account-file (HERALD_PUSH_SERVICE_ACCOUNT_FILE) '" + file + "' is not a"
                    + " readable Firebase service account key (the JSON file the Firebase console's Service accounts page downloads): "
                    + e.getMessage(), e);
        }
    }

    /** The token for the next call: fetched or renewed when it is missing or about to expire. */
    public String current() {
        if (credentials == null) {
            return fixed;
        }
        synchronized (credentials) {
            try {
                if (refused) {
                    credentials.refresh();
                    refused = false;
                } else {
                    credentials.refreshIfExpired();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("the push provider's access token could not be fetched from the service account's"
                        + " token endpoint (herald.push.service-account-file)", e);
            }
            AccessToken token = credentials.getAccessToken();
            return token.getTokenValue();
        }
    }

    /** FCM answered 401: the token it was sent is not taken (revoked, expired early); the next call fetches a new one. */
    public void refused() {
        refused = credentials != null;
    }
}
