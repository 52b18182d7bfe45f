package io.herald.dispatch;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.client5.http.impl.ChainElement;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.io.entity.HttpEntityWrapper;

/**
 * Tells "nothing was sent" from "sent, and no answer came" on every camel-http call. It sits in
 * Apache HttpClient's execution chain just before the transport step, i.e. after the connection was
 * leased from the pool and opened (TLS included): a connect timeout, a refused connection or no pooled
 * connection in time fail before it and pass unchanged (nothing reached the provider). An I/O error
 * from the transport step itself (a read timed out waiting for the answer, the connection closed or
 * reset before the answer's status line) happened once the request was being written, so the provider
 * may have acted on it: it becomes {@link ProviderAnswerLost}. An answer whose status line arrived is passed on (the
 * provider answered); when that status said accepted (2xx), a body cut off while it is read is {@link ProviderAnswerLost}
 * too (the provider took the request; a retry would send it again).
 */
final class AnswerLostDetector implements ExecChainHandler {

    static void install(HttpClientBuilder builder) {
        builder.addExecInterceptorBefore(ChainElement.MAIN_TRANSPORT.name(), "herald-answer-lost", new AnswerLostDetector());
    }

    @Override
    public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain) throws IOException, HttpException {
        boolean connected = scope.execRuntime.isEndpointConnected();
        try {
            ClassicHttpResponse response = chain.proceed(request, scope);
            if (response.getCode() >= 200 && response.getCode() < 300 && response.getEntity() != null) {
                response.setEntity(new AcceptedAnswerBody(response.getEntity(), response.getCode()));
            }
            return response;
        } catch (ProviderAnswerLost e) {
            throw e;
        } catch (IOException e) {
            if (!connected) {
                throw e;   // the transport had to connect first: not known to have sent anything
            }
            throw new ProviderAnswerLost(e);
        }
    }

    /**
     * The body of an answer whose status said the provider accepted the request (2xx): an I/O error while it is read (the
     * connection closed or timed out mid-body) is {@link ProviderAnswerLost}, not an I/O error to retry: the provider took
     * the request, so a retry would send the message again.
     */
    private static final class AcceptedAnswerBody extends HttpEntityWrapper {

        private final int status;

        AcceptedAnswerBody(HttpEntity body, int status) {
            super(body);
            this.status = status;
        }

        @Override
        public InputStream getContent() throws IOException {
            return new FilterInputStream(super.getContent()) {
                @Override
                public int read() throws IOException {
                    try {
                        return super.read();
                    } catch (ProviderAnswerLost e) {
                        throw e;
                    } catch (IOException e) {
                        throw ProviderAnswerLost.afterAccepted(status, e);
                    }
                }

                @Override
                public int read(byte[] bytes, int offset, int length) throws IOException {
                    try {
                        return super.read(bytes, offset, length);
                    } catch (ProviderAnswerLost e) {
                        throw e;
                    } catch (IOException e) {
                        throw ProviderAnswerLost.afterAccepted(status, e);
                    }
                }
            };
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            try (InputStream in = getContent()) {
                in.transferTo(out);
            }
        }
    }
}
