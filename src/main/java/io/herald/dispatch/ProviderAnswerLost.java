package io.herald.dispatch;

import java.io.IOException;
import java.net.SocketTimeoutException;

/**
 * An HTTP provider call whose request was sent (the connection was open and the request handed to
 * it) and whose answer never came: no answer within the response timeout, or the connection lost
 * before the answer. The provider may have acted on it. Raised by {@link AnswerLostDetector}; nothing
 * sent (no connection, connect timeout, no pooled connection in time) never raises it.
 *
 * <p>On a channel that does not re-send cut-off calls (herald.&lt;channel&gt;.resend-cut-off-calls false,
 * the default, since the real providers do not document honouring an Idempotency-Key) the delivery
 * becomes UNCERTAIN (routes/error-handling.camel.yaml, provider-answer-lost), never retried or parked;
 * elsewhere it is an I/O error like any other, retried with the same key, then parked. It carries
 * no cause on purpose: Camel matches onException along the cause chain from the innermost cause, and
 * an I/O cause would select the retry policy. The original error is kept as a suppressed exception,
 * for the log only.
 */
public class ProviderAnswerLost extends IOException {

    private final boolean timedOut;
    private final int acceptedStatus;

    public ProviderAnswerLost(IOException lost) {
        this(lost instanceof SocketTimeoutException ? "provider did not answer within the response timeout after it was sent the request"
                : "the connection to the provider was lost after the request was sent, before its answer came", lost, 0);
    }

    private ProviderAnswerLost(String message, IOException lost, int acceptedStatus) {
        super(message);
        this.timedOut = lost instanceof SocketTimeoutException;
        this.acceptedStatus = acceptedStatus;
        addSuppressed(lost);
    }

    /** The provider answered that it accepted the request (a 2xx status), and the rest of its answer was lost. */
    static ProviderAnswerLost afterAccepted(int status, IOException lost) {
        return new ProviderAnswerLost("the provider accepted the request (HTTP " + status + ") but its answer was cut off before Herald"
                + " read it", lost, status);
    }

    /** What happened, for people, naming the channel's setting (prefix herald.sms, herald.push...). */
    public String what(String settings) {
        if (acceptedStatus > 0) {
            return getMessage();
        }
        return timedOut
                ? "provider did not answer within the response timeout (" + settings + ".response-timeout-ms) after it was sent the request"
                : "the connection to the provider was lost after the request was sent, before its answer came";
    }
}
