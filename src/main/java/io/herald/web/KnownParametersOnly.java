package io.herald.web;

import java.lang.reflect.RecordComponent;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ledger.StoredText;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.MethodParameter;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * An API read ({@code GET /api/...}) with a query parameter its address does not take is refused with 400, naming it and
 * the ones it takes. Ignored, a misspelt filter widened the answer: {@code /api/scheduled?customerId=…} (the failures list's
 * name; the scheduled list calls it {@code customer}) listed every customer's waiting notifications, which a script might
 * then cancel. The names are read from the handler: its {@code @RequestParam}s and the fields of a filter record it binds.
 * A handler that takes a map of parameters or the request itself is not checked.
 */
public final class KnownParametersOnly implements HandlerInterceptor {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Spring Security's mark on the address a browser is sent back to after logging in (the inbox opened in a browser). */
    private static final String AFTER_LOGIN = "continue";
    private final Map<java.lang.reflect.Method, Optional<Set<String>>> taken = new ConcurrentHashMap<>();

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) throws Exception {
        boolean read = "GET".equalsIgnoreCase(request.getMethod()) || "HEAD".equalsIgnoreCase(request.getMethod());
        if (!read || !(handler instanceof HandlerMethod method)) {
            return true;
        }
        Optional<Set<String>> names = taken.computeIfAbsent(method.getMethod(), m -> namesOf(method));
        if (names.isEmpty()) {
            return true;
        }
        for (String given : request.getParameterMap().keySet()) {
            if (!names.get().contains(given) && !given.equals(AFTER_LOGIN)) {
                response.setStatus(400);
                response.setContentType("application/json;charset=UTF-8");
                String takes = names.get().isEmpty() ? "no parameters" : String.join(", ", names.get());
                response.getWriter().write(JSON.writeValueAsString(Map.of("error", "unknown parameter '" + StoredText.label(given, 40)
                        + "': this address takes " + takes + " (nothing was filtered by it; check its spelling)")));
                return false;
            }
        }
        return true;
    }

    /** The parameter names the handler takes; empty when it takes any (a map of them, or the request itself). */
    private static Optional<Set<String>> namesOf(HandlerMethod method) {
        Set<String> names = new TreeSet<>();
        String[] declared = new org.springframework.core.DefaultParameterNameDiscoverer().getParameterNames(method.getMethod());
        for (MethodParameter parameter : method.getMethodParameters()) {
            Class<?> type = parameter.getParameterType();
            RequestParam param = parameter.getParameterAnnotation(RequestParam.class);
            if (Map.class.isAssignableFrom(type) || jakarta.servlet.ServletRequest.class.isAssignableFrom(type)
                    || org.springframework.web.context.request.WebRequest.class.isAssignableFrom(type)) {
                return Optional.empty();
            }
            if (param != null) {
                String name = !param.name().isEmpty() ? param.name() : declared == null ? null : declared[parameter.getParameterIndex()];
                if (name == null) {
                    return Optional.empty();
                }
                names.add(name);
            } else if (type.isRecord()) {   // a filter bound from the query (FailureSearch.Filter)
                for (RecordComponent field : type.getRecordComponents()) {
                    names.add(field.getName());
                }
            }
        }
        return Optional.of(names);
    }
}
