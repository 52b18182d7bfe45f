package io.herald.dispatch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ServiceAccountCredentials;
import io.herald.config.PushSettings;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
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
public class PushAccessTokens implements org.springframework.beans.factory.DisposableBean {

    static final String SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
    /**
     * The token this thread last took for a call: a 401's handling runs on the thread that made the call, and the circuit
     * breaker runs the call on a copy of the exchange, so nothing set on it there comes back.
     */
    private static final ThreadLocal<String> TAKEN = new ThreadLocal<>();

    /** A token this close to its expiry is renewed before the next call (the library's own margin is about as long). */
    private static final long RENEW_BEFORE_MS = 5 * 60_000;

    private final GoogleCredentials credentials;
    private final String fixed;
    /** How long a call waits for a token fetch: the push call's own connect and response timeouts. */
    private final long fetchWaitMs;
    /**
     * Fetches run here, one at a time: a caller waits at most {@link #fetchWaitMs} for one, while the library, whose own
     * timeouts and retries add up to minutes against a token endpoint that does not answer, goes on in the background.
     */
    private final java.util.concurrent.ExecutorService fetches = java.util.concurrent.Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "push-token-fetch");
        thread.setDaemon(true);
        return thread;
    });
    /** The token FCM last refused (401): while it is the current one, the next call fetches a new one. */
    private volatile String refused;

    @Autowired
    public PushAccessTokens(PushSettings push, @Value("${herald.push.connect-timeout-ms}") long connectMs,
                            @Value("${herald.push.response-timeout-ms}") long responseMs) {
        this.fetchWaitMs = connectMs + responseMs;
        this.fixed = push.accessToken();
        this.credentials = push.serviceAccountFile().isBlank() ? null : load(push.serviceAccountFile().strip());
    }

    /** With the shipped push timeouts (5 s to connect, 20 s for the answer). */
    public PushAccessTokens(PushSettings push) {
        this(push, 5_000, 20_000);
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
     * The token for the next call: the one in hand while it has more than five minutes left and FCM has not refused it;
     * otherwise fetched (one fetch for all the callers that need it), each caller waiting at most the push call's connect and
     * response timeouts for it: a token endpoint that does not answer parks the push (PushTokenUnavailable, transient) instead
     * of holding a push sender for the library's own timeouts and retries, minutes in all.
     */
    public String current() {
        if (credentials == null) {
            return fixed;
        }
        AccessToken held = credentials.getAccessToken();
        String token = held != null && !held.getTokenValue().equals(refused) && held.getExpirationTime() != null
                && held.getExpirationTime().getTime() - System.currentTimeMillis() > RENEW_BEFORE_MS
                ? held.getTokenValue() : fetched();
        TAKEN.set(token);
        return token;
    }

    /** The fetch under way, shared by every caller that needs a token meanwhile (null: none). */
    private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.Future<String>> underWay =
            new java.util.concurrent.atomic.AtomicReference<>();

    private String fetched() {
        java.util.concurrent.FutureTask<String> mine = new java.util.concurrent.FutureTask<>(() -> {
            try {
                AccessToken now = credentials.getAccessToken();
                if (now != null && now.getTokenValue().equals(refused)) {
                    credentials.refresh();
                } else {
                    credentials.refreshIfExpired();
                }
                return credentials.getAccessToken().getTokenValue();
            } finally {
                underWay.set(null);
            }
        });
        java.util.concurrent.Future<String> fetch = underWay.compareAndExchange(null, mine);
        if (fetch == null) {
            fetch = mine;
            fetches.execute(mine);
        }
        try {
            return fetch.get(fetchWaitMs, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException late) {
            throw new PushTokenUnavailable("the token endpoint did not answer within " + fetchWaitMs
                    + " ms (herald.push.connect-timeout-ms + response-timeout-ms)");
        } catch (java.util.concurrent.ExecutionException failed) {
            throw new PushTokenUnavailable(failed.getCause() instanceof IOException io ? io : new IOException(failed.getCause()));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new PushTokenUnavailable("Herald stopped while waiting for the token endpoint");
        }
    }

    /** Herald stops: a fetch under way is abandoned, and the fetch thread ends. */
    @Override
    public void destroy() {
        fetches.shutdownNow();
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

        PushTokenUnavailable(String why) {
            super("the push provider's access token could not be fetched from the service account's token endpoint"
                    + " (herald.push.service-account-file): " + why, new IOException(why));
        }
    }
}
