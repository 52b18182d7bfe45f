package io.herald.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.MethodParameter;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * A hostile outsider against the operator API and the console: every operation of the published OpenAPI document, and every
 * console address Spring serves, is sent a table of hostile values (ids out of range or not numbers, impossible dates and
 * reversed ranges, unknown enum values, huge limits and negative pages, repeated parameters, NUL, bidi controls and very long
 * strings, malformed and wrongly typed JSON bodies, wrong content types, methods the address does not take). Walking the
 * document and Spring's mappings means a new operation or page is covered without a line here.
 *
 * <p>What a caller must see: never a 5xx, never exception, class, SQL or stack-trace text; from the API a JSON
 * {@code {"error": "..."}} in words, naming the parameter when a parameter was refused; from a console page, for a browser, an
 * HTML page. And refused requests leave nothing in the audit trail, nor exception text anywhere in it.
 *
 * <p>Not covered: an address with %00, %5C, %2F or bytes that are not UTF-8 in its path is refused by Tomcat itself, before
 * Herald, with Tomcat's own HTML page (no exception text, but not the API's JSON).
 */
class HostileApiInputTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String APPROVER = "approver:approver-demo";
    /** An id no row has: every action below targets nothing, so nothing real is retried, resent or erased. */
    private static final String NO_SUCH_ID = "9223372036854775807";
    private static final String NO_SUCH_CUSTOMER = "cus_hostile_nobody";

    /**
     * Values for a path variable (50%25off: Spring Security's firewall refuses it, saying what in the address). Not here: %00,
     * %5C, %2F and bytes that are not UTF-8 in an address, which Tomcat refuses before Herald sees the request (see above).
     */
    private static final List<String> PATH_NUMBERS = List.of("abc", "9223372036854775808", "-1", "0", "1e3");
    private static final List<String> PATH_TEXTS = List.of("NOPE", "2026-13-45", "%27", "%E2%80%AE%F0%9F%98%80", "x".repeat(300),
            "50%25off");
    /** The firewall's refusal of an address: about the address, not one of its parameters. */
    private static final String ADDRESS_REFUSED = "the address itself cannot be used";
    private static final List<String> WHOLE_NUMBERS = List.of("abc", "9223372036854775808", "-1", "0", "1e3", "%00", "FAILED&{name}=NOPE");
    private static final List<String> TEXTS = List.of("2026-13-45", "1733500000", "2026-12-06T10:00:00%2B02:00", "NOPE",
            "%27%3B%20DROP%20TABLE%20notification%3B--", "%00", "%E2%80%AE%F0%9F%98%80", "x".repeat(6_000), "FAILED&{name}=NOPE");
    private static final List<String> CONSOLE_TEXTS = List.of("NOPE", "2026-13-45", "%00", "%C3%28", "x".repeat(6_000));
    private static final List<String> BOOLEANS = List.of("maybe", "%00");
    /** Bodies for every operation that takes one or acts (POST, PUT, DELETE): content type, then body. */
    private static final List<String[]> BODIES = List.of(
            new String[] {"application/json", "{"},
            new String[] {"application/json", "[]"},
            new String[] {"application/json", "{\"comment\": 5, \"confirm\": \"yes\", \"customerId\": \"" + NO_SUCH_CUSTOMER + "\"}"},
            new String[] {"application/json", "{\"comment\": \"x\", \"confirm\": true, \"customerId\": \"" + NO_SUCH_CUSTOMER + "\", \"state\": \"NOPE\", \"from\": \"2026-13-45\"}"},
            new String[] {"application/json", "{\"comment\": \"a\\u0000b\", \"customerId\": \"" + NO_SUCH_CUSTOMER + "\"}"},
            new String[] {"application/json", "{\"comment\": \"" + "y".repeat(100_000) + "\"}"},
            new String[] {"application/json", "[".repeat(5_000) + "]".repeat(5_000)},
            new String[] {"application/json", "{\"comment\": \"x\", \"comment\": \"y\", \"customerId\": \"" + NO_SUCH_CUSTOMER + "\"}"},
            new String[] {"text/plain", "comment=x"},
            new String[] {null, null});
    private static final List<String> ACCEPTS = List.of("application/xml");
    /** What a caller must never read: exception and class names, stack frames, SQL and the server's own pages. */
    private static final Pattern LEAK = Pattern.compile("Exception|Throwable|\\tat |\\bat [\\w$.]+\\(|(org|com|java|jakarta|javax)\\.[a-z]+\\."
            + "|SQLSTATE|SQL state|syntax error|PSQL|\\bSELECT\\b|\\bINSERT INTO\\b|\\bWHERE\\b|Whitelabel|Apache Tomcat|Bad Request\"|Internal Server Error");

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    private final List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    private final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();

    @Test
    void everyApiOperationAnswersHostileInputInWordsAndTheAuditTrailStaysClean() throws Exception {
        long started = System.nanoTime();
        long lastAction = jdbc.queryForObject("SELECT COALESCE(MAX(id), 0) FROM operator_action", Long.class);
        long lastErasure = jdbc.queryForObject("SELECT COALESCE(MAX(id), 0) FROM customer_erasure", Long.class);
        JsonNode paths = JSON.readTree(apiAs(ADMIN, "GET", "/v3/api-docs", null).body()).get("paths");
        List<java.util.concurrent.Callable<Void>> tasks = new ArrayList<>();
        int operations = 0;
        for (Map.Entry<String, JsonNode> path : iterable(paths.fields())) {
            Set<String> declared = new LinkedHashSet<>();
            for (Map.Entry<String, JsonNode> op : iterable(path.getValue().fields())) {
                String method = op.getKey().toUpperCase(Locale.ROOT);
                declared.add(method);
                operations++;
                tasks.add(() -> {
                    apiOperation(path.getKey(), method, op.getValue());
                    return null;
                });
            }
            tasks.add(() -> {
                otherMethods(path.getKey(), declared);
                return null;
            });
        }
        runAll(tasks);
        assertThat(operations).as("operations in the OpenAPI document").isGreaterThanOrEqualTo(25);
        System.out.printf("HostileApiInputTest: %d operations, %d requests, %d ms%n", operations, requests.get(),
                (System.nanoTime() - started) / 1_000_000);
        // Every request above targeted nothing or was refused: nothing may have been acted on or recorded, and no
        // exception text may have reached the audit trail.
        for (Map<String, Object> row : jdbc.queryForList("SELECT action, target, target_id, comment, outcome FROM operator_action"
                + " WHERE id > ? AND actor IN ('admin', 'operator', 'approver')", lastAction)) {
            problems.add("audit trail: a refused request was recorded: " + shortened(row.toString()));
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_erasure WHERE id > ?", Integer.class, lastErasure))
                .as("erasures recorded for customers Herald does not hold").isZero();
        assertThat(problems).as("hostile input answered wrongly (%d requests)", requests.get()).isEmpty();
    }

    @Test
    void everyConsoleAddressAnswersHostileInputWithAPageInWords() throws Exception {
        long started = System.nanoTime();
        long lastAction = jdbc.queryForObject("SELECT COALESCE(MAX(id), 0) FROM operator_action", Long.class);
        List<java.util.concurrent.Callable<Void>> tasks = new ArrayList<>();
        for (Map.Entry<org.springframework.web.servlet.mvc.method.RequestMappingInfo, HandlerMethod> mapping
                : mappings.getHandlerMethods().entrySet()) {
            for (String pattern : mapping.getKey().getPatternValues()) {
                if (!pattern.startsWith("/console")) {
                    continue;
                }
                for (RequestMethod method : mapping.getKey().getMethodsCondition().getMethods()) {
                    tasks.add(() -> {
                        consoleAddress(pattern, method.name(), mapping.getValue());
                        return null;
                    });
                }
            }
        }
        assertThat(tasks).as("console addresses").hasSizeGreaterThanOrEqualTo(20);
        runAll(tasks);
        for (Map<String, Object> row : jdbc.queryForList("SELECT action, target, target_id, comment, outcome FROM operator_action"
                + " WHERE id > ? AND actor IN ('admin', 'operator', 'approver')", lastAction)) {
            problems.add("audit trail: a refused console request was recorded: " + shortened(row.toString()));
        }
        System.out.printf("HostileApiInputTest: %d console addresses, %d requests, %d ms%n", tasks.size(), requests.get(),
                (System.nanoTime() - started) / 1_000_000);
        assertThat(problems).as("hostile input answered wrongly (%d requests)", requests.get()).isEmpty();
    }

    /** The methods an address does not take: 405 (or 403/404), in the API's error shape. */
    private void otherMethods(String template, Set<String> declared) throws Exception {
        // One method the address does not take is enough: they all go the same way (Spring's 405, or the role's 403).
        for (String other : List.of("PATCH", declared.contains("GET") ? "PUT" : "GET")) {
            if (!declared.contains(other)) {
                HttpResponse<String> answer = send(accountFor(template), other, fill(template, Map.of(), null),
                        "application/json", "application/json", "{}");
                checkApi(other + " " + template, answer, null, null);
                // 405; 403 where the role's rules name methods; 400 where the address is also another's with an id ({id}: 'retry').
                if (answer.statusCode() < 400 || answer.statusCode() >= 500) {
                    problems.add(other + " " + template + ": a method the address does not take answered " + answer.statusCode());
                }
            }
        }
    }

    /** Four requests at a time: each operation's own requests one after the other. */
    private static void runAll(List<java.util.concurrent.Callable<Void>> tasks) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            for (java.util.concurrent.Future<Void> done : pool.invokeAll(tasks)) {
                done.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- the API ----

    private void apiOperation(String template, String method, JsonNode operation) throws Exception {
        String account = accountFor(template);
        List<JsonNode> parameters = new ArrayList<>();
        operation.path("parameters").forEach(parameters::add);
        String baseline = fill(template, Map.of(), null);
        // What the operation answers with harmless values: a refusal that is the same as this one is not about the hostile value.
        String usual = errorOf(send(account, method, baseline + requiredQuery(parameters, null), "application/json", bodyType(method),
                bodyFor(method)));
        // Path parameters, one at a time.
        for (JsonNode parameter : parameters) {
            if (!parameter.path("in").asText().equals("path")) {
                continue;
            }
            String name = parameter.path("name").asText();
            for (String value : parameter.path("schema").path("type").asText().equals("integer") ? PATH_NUMBERS : PATH_TEXTS) {
                String path = fill(template, Map.of(name, value), null) + requiredQuery(parameters, null);
                HttpResponse<String> answer = send(account, method, path, "application/json", bodyType(method), bodyFor(method));
                checkApi(method + " " + path, answer, name, usual);
            }
        }
        // Query parameters, one at a time, then repeated.
        for (JsonNode parameter : parameters) {
            if (!parameter.path("in").asText().equals("query")) {
                continue;
            }
            String name = parameter.path("name").asText();
            for (String value : valuesFor(parameter)) {
                value = value.replace("{name}", name);
                String path = baseline + "?" + name + "=" + value + requiredQuery(parameters, name).replaceFirst("^\\?", "&");
                HttpResponse<String> answer = send(account, method, path, "application/json", bodyType(method), bodyFor(method));
                checkApi(method + " " + path, answer, name, usual);
            }
        }
        // A reversed range, where the operation takes one.
        if (parameters.stream().anyMatch(p -> p.path("name").asText().equals("from"))
                && parameters.stream().anyMatch(p -> p.path("name").asText().equals("to"))) {
            String path = baseline + "?from=2026-12-10&to=2026-12-01";
            HttpResponse<String> answer = send(account, method, path, "application/json", null, null);
            checkApi(method + " " + path, answer, "from", usual);
            if (answer.statusCode() != 400) {
                problems.add(method + " " + path + ": a range whose from is after its to answered " + answer.statusCode()
                        + " instead of saying so: " + shortened(answer.body()));
            }
        }
        // Accept headers it cannot answer in.
        for (String accept : ACCEPTS) {
            HttpResponse<String> answer = send(account, method, baseline + requiredQuery(parameters, null), accept, bodyType(method), bodyFor(method));
            if (answer.statusCode() >= 500 || LEAK.matcher(answer.body()).find()) {
                problems.add(method + " " + baseline + " Accept: " + accept + ": " + answer.statusCode() + " " + shortened(answer.body()));
            }
        }
        // Bodies.
        if (!method.equals("GET")) {
            for (String[] body : BODIES) {
                HttpResponse<String> answer = send(account, method, baseline + requiredQuery(parameters, null), "application/json", body[0], body[1]);
                checkApi(method + " " + baseline + " with " + (body[0] == null ? "no body" : body[0] + " " + shortened(body[1])), answer, null, null);
            }
        }
    }

    /** The values to try for one parameter, by its schema's type (and its name for enums and times). */
    private static List<String> valuesFor(JsonNode parameter) {
        String type = parameter.path("schema").path("type").asText();
        return switch (type) {
            case "integer", "number" -> WHOLE_NUMBERS;
            case "boolean" -> BOOLEANS;
            default -> TEXTS;
        };
    }

    /** The parameters the operation requires, with a harmless value (every parameter but the one under test). */
    private static String requiredQuery(List<JsonNode> parameters, String except) {
        StringBuilder query = new StringBuilder();
        for (JsonNode parameter : parameters) {
            String name = parameter.path("name").asText();
            if (parameter.path("in").asText().equals("query") && parameter.path("required").asBoolean() && !name.equals(except)) {
                query.append(query.length() == 0 ? "?" : "&").append(name).append('=').append(harmless(parameter));
            }
        }
        return query.toString();
    }

    private static String harmless(JsonNode parameter) {
        return switch (parameter.path("schema").path("type").asText()) {
            case "integer", "number" -> "1";
            case "boolean" -> "false";
            default -> NO_SUCH_CUSTOMER;
        };
    }

    /** The template with the given path values, and an id no row has (or a customer Herald does not hold) for the rest. */
    private static String fill(String template, Map<String, String> values, JsonNode unused) {
        java.util.regex.Matcher variable = Pattern.compile("\\{([^}:]+)(:[^}]*)?}").matcher(template);
        StringBuilder path = new StringBuilder();
        while (variable.find()) {
            String name = variable.group(1);
            String value = values.getOrDefault(name, name.toLowerCase(Locale.ROOT).contains("customer") ? NO_SUCH_CUSTOMER : NO_SUCH_ID);
            if (variable.group(2) != null && !values.containsKey(name)) {   // a console pattern such as {action:cancel|send-now}
                value = variable.group(2).substring(1).split("\\|")[0];
            }
            variable.appendReplacement(path, java.util.regex.Matcher.quoteReplacement(value));
        }
        variable.appendTail(path);
        return path.toString();
    }

    private static String bodyType(String method) {
        return method.equals("GET") ? null : "application/json";
    }

    private static String bodyFor(String method) {
        return method.equals("GET") ? null : "{\"comment\": \"hostile input test\", \"confirm\": true, \"customerId\": \"" + NO_SUCH_CUSTOMER + "\"}";
    }

    private static String accountFor(String path) {
        return path.contains("/approvals") ? APPROVER : ADMIN;
    }

    /** An API answer: below 500, no leak, and a refusal in the API's error shape, naming the parameter it refused. */
    private void checkApi(String request, HttpResponse<String> answer, String parameter, String usual) {
        String what = shortened(request) + " -> " + answer.statusCode() + " " + shortened(answer.body());
        if (answer.statusCode() >= 500) {
            problems.add(what);
            return;
        }
        if (answer.statusCode() >= 300 && LEAK.matcher(answer.body()).find()) {
            problems.add("leaks its insides: " + what);
            return;
        }
        if (answer.statusCode() >= 400) {
            String error;
            try {
                error = JSON.readTree(answer.body()).path("error").asText("");
            } catch (Exception notJson) {
                problems.add("not the API's error shape: " + what);
                return;
            }
            if (error.isBlank()) {
                problems.add("no error in words: " + what);
            } else if (answer.statusCode() == 400 && parameter != null && !error.contains(parameter) && !error.contains("NUL")
                    && !error.equals(usual) && !error.startsWith(ADDRESS_REFUSED)) {
                problems.add("400 without naming '" + parameter + "': " + what);
            }
        }
    }

    /** The error of a 400, else null. */
    private static String errorOf(HttpResponse<String> answer) {
        try {
            return answer.statusCode() == 400 ? JSON.readTree(answer.body()).path("error").asText(null) : null;
        } catch (Exception notJson) {
            return null;
        }
    }

    // ---- the console ----

    private void consoleAddress(String pattern, String method, HandlerMethod handler) throws Exception {
        Map<String, Class<?>> pathVariables = new LinkedHashMap<>();
        Map<String, Class<?>> parameters = new LinkedHashMap<>();
        String[] names = new DefaultParameterNameDiscoverer().getParameterNames(handler.getMethod());
        for (MethodParameter parameter : handler.getMethodParameters()) {
            String declared = names == null ? null : names[parameter.getParameterIndex()];
            PathVariable variable = parameter.getParameterAnnotation(PathVariable.class);
            RequestParam param = parameter.getParameterAnnotation(RequestParam.class);
            if (variable != null) {
                pathVariables.put(variable.value().isEmpty() ? declared : variable.value(), parameter.getParameterType());
            } else if (param != null) {
                parameters.put(param.name().isEmpty() ? declared : param.name(), parameter.getParameterType());
            } else if (parameter.getParameterType().isRecord()) {
                for (RecordComponent field : parameter.getParameterType().getRecordComponents()) {
                    parameters.put(field.getName(), field.getType());
                }
            }
        }
        String account = accountFor(pattern);
        String baseline = fill(pattern, Map.of(), null);
        String harmlessForm = harmlessForm(parameters, null);
        boolean usuallyRefused = consoleSend(account, method, baseline, harmlessForm).statusCode() == 400;
        for (Map.Entry<String, Class<?>> variable : pathVariables.entrySet()) {
            for (String value : isWhole(variable.getValue()) ? PATH_NUMBERS : PATH_TEXTS) {
                String path = fill(pattern, Map.of(variable.getKey(), value), null);
                checkConsole(method + " " + path, consoleSend(account, method, path, harmlessForm), variable.getKey(),
                        usuallyRefused);
            }
        }
        for (Map.Entry<String, Class<?>> parameter : parameters.entrySet()) {
            for (String value : consoleValues(parameter.getValue())) {
                value = value.replace("{name}", parameter.getKey());
                String form = harmlessForm(parameters, parameter.getKey());
                form = (form.isEmpty() ? "" : form + "&") + parameter.getKey() + "=" + value;
                checkConsole(method + " " + baseline + " " + parameter.getKey() + "=" + value, consoleSend(account, method, baseline, form),
                        parameter.getKey(), usuallyRefused);
            }
        }
        if (parameters.containsKey("from") && parameters.containsKey("to") && method.equals("GET")) {
            HttpResponse<String> answer = consoleSend(account, method, baseline, "from=2026-12-10&to=2026-12-01");
            checkConsole(method + " " + baseline + "?from=2026-12-10&to=2026-12-01", answer, "from", usuallyRefused);
            if (answer.statusCode() != 400) {
                problems.add(method + " " + baseline + "?from=2026-12-10&to=2026-12-01: a reversed range answered " + answer.statusCode());
            }
        }
    }

    private static List<String> consoleValues(Class<?> type) {
        if (isWhole(type)) {
            return WHOLE_NUMBERS;
        }
        if (type == boolean.class || type == Boolean.class) {
            return BOOLEANS;
        }
        return CONSOLE_TEXTS;
    }

    private static boolean isWhole(Class<?> type) {
        return type == long.class || type == Long.class || type == int.class || type == Integer.class;
    }

    /** Values for the other parameters, so a refusal is about the one under test (actions target nothing: see fill). */
    private static String harmlessForm(Map<String, Class<?>> parameters, String except) {
        List<String> form = new ArrayList<>();
        parameters.forEach((name, type) -> {
            if (name.equals(except)) {
                return;
            }
            if (type == long.class || type == Long.class || type == int.class || type == Integer.class) {
                form.add(name + "=" + (name.equals("notification") ? NO_SUCH_ID : "1"));
            } else if (name.equals("comment")) {
                form.add("comment=hostile+input+test");
            } else if (name.equals("customerId") || name.equals("customer")) {
                form.add(name + "=" + NO_SUCH_CUSTOMER);
            }
        });
        return String.join("&", form);
    }

    private HttpResponse<String> consoleSend(String account, String method, String path, String form) throws Exception {
        if (method.equals("GET")) {
            return send(account, method, path + (form.isEmpty() ? "" : "?" + form), "text/html,application/xhtml+xml", null, null);
        }
        return send(account, method, path, "text/html,application/xhtml+xml", "application/x-www-form-urlencoded", form);
    }

    /** A console answer to a browser: below 500, no leak, a refusal as an HTML page naming the parameter. */
    private void checkConsole(String request, HttpResponse<String> answer, String parameter, boolean usuallyRefused) {
        String what = shortened(request) + " -> " + answer.statusCode() + " " + shortened(answer.body());
        if (answer.statusCode() >= 500) {
            problems.add(what);
            return;
        }
        if (answer.statusCode() >= 400 && LEAK.matcher(answer.body()).find()) {
            problems.add("leaks its insides: " + what);
            return;
        }
        if (answer.statusCode() >= 400) {
            String type = answer.headers().firstValue("Content-Type").orElse("");
            if (!type.startsWith("text/html")) {
                problems.add("not a page for the browser (" + type + "): " + what);
            } else if (answer.statusCode() == 400 && !usuallyRefused && !answer.body().contains(parameter) && !answer.body().contains("NUL")
                    && !answer.body().contains(ADDRESS_REFUSED)) {
                problems.add("400 page without naming '" + parameter + "': " + what);
            }
        }
    }

    // ---- plumbing ----

    private HttpResponse<String> send(String account, String method, String path, String accept, String contentType, String body)
            throws Exception {
        requests.incrementAndGet();
        long started = System.nanoTime();
        try {
            return sendTimed(account, method, path, accept, contentType, body);
        } finally {
            long ms = (System.nanoTime() - started) / 1_000_000;
            if (ms > 2_000) {
                System.out.printf("HostileApiInputTest slow: %d ms %s %s%n", ms, method, shortened(path));
            }
        }
    }

    private HttpResponse<String> sendTimed(String account, String method, String path, String accept, String contentType, String body)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body,
                        contentType != null && contentType.contains("8859") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)));
        if (accept != null) {
            request.header("Accept", accept);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String shortened(String text) {
        String flat = String.valueOf(text).replaceAll("\\s+", " ");
        return flat.length() <= 300 ? flat : flat.substring(0, 300) + "…";
    }

    private static <T> Iterable<T> iterable(java.util.Iterator<T> iterator) {
        return () -> iterator;
    }
}
