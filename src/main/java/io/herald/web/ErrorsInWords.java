package io.herald.web;

import java.util.LinkedHashMap;
import java.util.Map;

import io.herald.kafka.InfrastructureFaults;
import org.springframework.boot.web.error.ErrorAttributeOptions;
import org.springframework.boot.web.servlet.error.DefaultErrorAttributes;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.WebRequest;

/**
 * What Herald answers where no controller does (a login missing or refused, a method an address does not take, an address
 * that does not exist): the API's error shape, {@code {"error": "..."}} in words, with the status and the path the console's
 * error page shows. Spring answered {"timestamp", "status", "error": "Forbidden", "path"}, naming nothing a person can act on.
 */
@Component
public class ErrorsInWords extends DefaultErrorAttributes {

    @Override
    public Map<String, Object> getErrorAttributes(WebRequest request, ErrorAttributeOptions options) {
        Map<String, Object> spring = super.getErrorAttributes(request, options);
        int status = spring.get("status") instanceof Integer code ? code : 500;
        Object path = spring.get("path");
        Map<String, Object> answer = new LinkedHashMap<>();
        Throwable error = getError(request);
        answer.put("error", status == 503 && InfrastructureFaults.isInfrastructure(error)
                ? OutageInWords.of(error) : words(status, path));
        answer.put("status", status);
        answer.put("path", path);
        return answer;
    }

    /**
     * A script's or tool's request its login may not make (the credentials chain): 403 with the sentence, written at once (the
     * error page's dispatch answered such a refusal with an empty body).
     */
    public static void denied(jakarta.servlet.http.HttpServletRequest request, jakarta.servlet.http.HttpServletResponse response,
                              org.springframework.security.access.AccessDeniedException refused) throws java.io.IOException {
        response.setStatus(403);
        response.setContentType("application/json;charset=UTF-8");
        response.getWriter().write("{\"error\": \"" + words(403, null) + "\"}");
    }

    static String words(int status, Object path) {
        return switch (status) {
            case 400 -> "the request cannot be read: check the address and its parameters";
            case 401 -> "log in first: the API takes HTTP Basic or a bearer token (see Access in the README)";
            case 403 -> "not allowed: your login's role may not do this, or the request came from another site without the console's"
                    + " CSRF token";
            case 404 -> "there is nothing at " + path + ": the address may be wrong, or the item was never kept";
            case 405 -> "this address does not take that method: GET reads, POST acts (the API's description is at /swagger-ui.html)";
            case 413 -> "the request is larger than Herald takes";
            case 415 -> "send the body as application/json";
            default -> status >= 500 ? "Herald could not answer (" + status + "); the details are in its log"
                    : "the request was refused (" + status + ")";
        };
    }
}
