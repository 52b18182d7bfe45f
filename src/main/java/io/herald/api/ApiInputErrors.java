package io.herald.api;

import java.util.Map;

import io.herald.console.ActionRefused;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageConversionException;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * The operator API's answer to a request it cannot read, in words and in the API's error shape
 * ({@code {"error": "..."}}): which parameter, what it must be, what was sent. Without it Spring
 * answered {@code "error": "Bad Request"}, naming nothing.
 */
@RestControllerAdvice(annotations = RestController.class)
@org.springframework.core.annotation.Order(org.springframework.core.Ordered.HIGHEST_PRECEDENCE)   // before the console's (ConsoleInputErrors)
public class ApiInputErrors {

    private static final int SHOWN_CHARS = 40;

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    public ResponseEntity<Map<String, String>> wrongType(MethodArgumentTypeMismatchException e) {
        return answer(HttpStatus.BAD_REQUEST, wrongTypeWords(e));
    }

    /** Which parameter, what it must be, what was sent (the console's pages say the same: ConsoleInputErrors). */
    public static String wrongTypeWords(MethodArgumentTypeMismatchException e) {
        String value = String.valueOf(e.getValue());
        if (value.matches("-?\\d{1,400}") && isWhole(e.getRequiredType())) {   // a whole number, out of the parameter's range
            boolean small = e.getRequiredType() == int.class || e.getRequiredType() == Integer.class;
            return e.getName() + " is out of range: from " + (small ? Integer.MIN_VALUE : Long.MIN_VALUE)
                    + " to " + (small ? Integer.MAX_VALUE : Long.MAX_VALUE) + "; was '" + shown(value) + "'";
        }
        return e.getName() + " must be " + kind(e.getRequiredType()) + "; was '" + shown(e.getValue()) + "'";
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    public ResponseEntity<Map<String, String>> missing(MissingServletRequestParameterException e) {
        return answer(HttpStatus.BAD_REQUEST, missingWords(e));
    }

    public static String missingWords(MissingServletRequestParameterException e) {
        return e.getParameterName() + " is missing: add ?" + e.getParameterName() + "=… to the request";
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    public ResponseEntity<Map<String, String>> unreadableBody(HttpMessageNotReadableException e) {
        return answer(HttpStatus.BAD_REQUEST, "the request body is not a JSON object Herald can read;"
                + " send one like {\"comment\": \"why\"}, or no body where none is needed");
    }

    /**
     * A body Jackson read as JSON but could not turn into the request (a field given twice, {"comment": "x", "comment": "y"},
     * ended in a "type definition error" and a 500). An answer Herald cannot write stays a fault of Herald's.
     */
    @ExceptionHandler(HttpMessageConversionException.class)
    public ResponseEntity<Map<String, String>> unusableBody(HttpMessageConversionException e) {
        if (e instanceof org.springframework.http.converter.HttpMessageNotWritableException) {
            throw e;
        }
        return answer(HttpStatus.BAD_REQUEST, "the request body is not a JSON object Herald can use (is a field given twice?);"
                + " send one like {\"comment\": \"why\"}, each field once");
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    public ResponseEntity<Map<String, String>> wrongContentType(HttpMediaTypeNotSupportedException e) {
        return answer(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "content type is '" + shown(e.getContentType())
                + "'; send the body as application/json");
    }

    /** A parameter Herald read but cannot use (an unknown status, a time out of range), where no controller answers it itself. */
    @ExceptionHandler(ActionRefused.InvalidInput.class)
    public ResponseEntity<Map<String, String>> invalid(ActionRefused.InvalidInput e) {
        return answer(HttpStatus.BAD_REQUEST, e.getMessage());
    }

    private static boolean isWhole(Class<?> type) {
        return type == long.class || type == Long.class || type == int.class || type == Integer.class;
    }

    private static String kind(Class<?> type) {
        if (type == null) {
            return "something else";
        }
        if (type == long.class || type == Long.class || type == int.class || type == Integer.class) {
            return "a whole number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type.isEnum()) {
            return "one of " + java.util.Arrays.toString(type.getEnumConstants());
        }
        return "a " + type.getSimpleName();
    }

    private static String shown(Object value) {
        // A parameter given more than once arrives as an array: its values, not the array's Java name ([Ljava.lang.String;@…).
        String text = (value instanceof Object[] many ? String.join(", ", java.util.Arrays.stream(many).map(String::valueOf).toList())
                : String.valueOf(value)).replace('\u0000', ' ');
        return text.length() <= SHOWN_CHARS ? text : text.substring(0, SHOWN_CHARS) + "…";
    }

    private static ResponseEntity<Map<String, String>> answer(HttpStatus status, String error) {
        return ResponseEntity.status(status).body(Map.of("error", error));
    }
}
