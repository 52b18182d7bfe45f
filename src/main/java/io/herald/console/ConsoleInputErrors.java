package io.herald.console;

import java.io.IOException;

import io.herald.api.ApiInputErrors;
import io.herald.web.ErrorsInWords;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * The console's answer to a request it cannot use: the console's own error page (HTML), with the words that name the
 * parameter and say what it takes. A filter Herald could not use (an unknown state, a date that is not one) was answered
 * as bare text/plain in the browser, and an id or number that was not one showed "This address cannot be read" without
 * saying which part. The API keeps its JSON answers (ApiInputErrors comes first for its controllers).
 */
@ControllerAdvice(annotations = Controller.class)
@Order(Ordered.LOWEST_PRECEDENCE)
public class ConsoleInputErrors {

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    public void wrongType(MethodArgumentTypeMismatchException e, HttpServletRequest request, HttpServletResponse response) throws IOException {
        refuse(request, response, 400, ApiInputErrors.wrongTypeWords(e));
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    public void missing(MissingServletRequestParameterException e, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        refuse(request, response, 400, ApiInputErrors.missingWords(e));
    }

    /** A filter or action Herald read but cannot use: 400; an item that does not exist 404; one in the wrong state 409. */
    @ExceptionHandler(ActionRefused.class)
    public void refused(ActionRefused e, HttpServletRequest request, HttpServletResponse response) throws IOException {
        refuse(request, response, e instanceof ActionRefused.InvalidInput ? 400 : e.unknown() ? 404 : 409, e.getMessage());
    }

    private static void refuse(HttpServletRequest request, HttpServletResponse response, int status, String words) throws IOException {
        request.setAttribute(ErrorsInWords.REASON, words);
        response.sendError(status);
    }
}
