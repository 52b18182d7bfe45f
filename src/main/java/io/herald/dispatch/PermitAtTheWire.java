package io.herald.dispatch;

import java.io.IOException;

import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpException;

/**
 * Keeps an HTTP channel's rate limit where the provider counts it: in Apache HttpClient's execution
 * chain, after the connection was leased and opened and just before the request is written, it asks
 * {@link ProviderPermits#confirmAtWire} whether the permit this thread took in the route's rate-limit
 * step is still fresh, and takes a fresh one if not. It runs on the thread that took the permit (the
 * circuit breaker runs the call on the sender's own thread), and does nothing for a call that took none.
 */
final class PermitAtTheWire implements ExecChainHandler {

    private final ProviderPermits permits;

    private PermitAtTheWire(ProviderPermits permits) {
        this.permits = permits;
    }

    /** Installs it just before the transport; install it before {@link AnswerLostDetector} so it sits outside it. */
    static void install(HttpClientBuilder builder, ProviderPermits permits) {
        builder.addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(), "herald-permit-at-the-wire", new PermitAtTheWire(permits));
    }

    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain) throws IOException, HttpException {
        permits.confirmAtWire();
        return chain.proceed(request, scope);
    }
}
