package io.herald.ingest;

/** An inbound request refused at the door, with the HTTP status the sender gets and a readable reason. */
public class InboundRejected extends RuntimeException {

    private final int httpStatus;

    public InboundRejected(int httpStatus, String reason) {
        super(reason);
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
