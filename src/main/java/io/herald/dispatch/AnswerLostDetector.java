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
 * Tells "nothing was sent" from "sent, and no answer came" on every camel-http call. It sits in
 * Apache HttpClient's execution chain just before the transport step, i.e. after the connection was
 * leased from the pool and opened (TLS included): a connect timeout, a refused connection or no pooled
 * connection in time fail before it and pass unchanged (nothing reached the provider). An I/O error
 * from the transport step itself (a read timed out waiting for the answer, the connection closed or
 * reset before the answer's status line) happened once the request was being written, so the provider
 * may have acted on it: it becomes {@link ProviderAnswerLost}. An answer whose status line arrived,
 * whatever its status, is passed on unchanged (the provider answered).
 */
final class AnswerLostDetector implements ExecChainHandler {

    static void install(HttpClientBuilder builder) {
        builder.addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(), "herald-answer-lost", new AnswerLostDetector());
    }

    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain) throws IOException, HttpException {
        boolean connected = scope.execRuntime.isEndpointConnected();
        try {
            return chain.proceed(request, scope);
        } catch (ProviderAnswerLost e) {
            throw e;
        } catch (IOException e) {
            if (!connected) {
                throw e;   // the transport had to connect first: not known to have sent anything
            }
            throw new ProviderAnswerLost(e);
        }
    }
}
