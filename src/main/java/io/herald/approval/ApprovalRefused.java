package io.herald.approval;

import io.herald.console.ActionRefused;
import org.springframework.http.HttpStatus;

/** An approval or rejection that cannot be done, with the reason for the person and the HTTP status the API answers with. */
public class ApprovalRefused extends ActionRefused {

    private final HttpStatus status;

    public ApprovalRefused(HttpStatus status, String reason) {
        super(reason, status == HttpStatus.NOT_FOUND);
        this.status = status;
    }

    public HttpStatus status() {
        return status;
    }
}
