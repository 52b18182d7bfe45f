package io.herald.web;

import java.io.IOException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.stereotype.Component;

/**
 * An address Spring Security's firewall refuses (an encoded %, ; or \ in the path, a double slash), such as
 * /api/customers/50%25off: 400, saying what in the address cannot be used. It said "the request cannot be read: check
 * the address and its parameters", which sent a caller looking at parameters that were fine.
 */
@Component
public class AddressRefusedInWords implements RequestRejectedHandler {

    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response, RequestRejectedException refused) throws IOException {
        request.setAttribute(ErrorsInWords.REASON, "the address itself cannot be used: its path holds a character Herald does not take"
                + " there (an encoded %, ;, \\ or /, or a double slash); remove it, or give the value as a query parameter"
                + " (for a customer: /api/customers?q=…)");
        response.sendError(HttpServletResponse.SC_BAD_REQUEST);
    }
}
