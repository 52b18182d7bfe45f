package io.herald.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

/**
 * The operator API's OpenAPI document, as an operator fetches it from a running Herald: behind the login
 * (a viewer may read it), listing every /api mapping Spring serves (enumerated from Spring's own handler
 * mapping, so a new endpoint without documentation fails here), each with its answer's schema and an
 * example, and valid OpenAPI 3 (the swagger parser reports no message).
 */
class OpenApiTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    @Test
    void theDocumentIsBehindTheLoginAndAViewerMayReadIt() throws Exception {
        assertThat(apiAs(null, "GET", "/v3/api-docs", null).statusCode()).isEqualTo(401);
        assertThat(apiAs(VIEWER, "GET", "/v3/api-docs", null).statusCode()).isEqualTo(200);
        assertThat(apiAs(VIEWER, "GET", "/swagger-ui/index.html", null).statusCode()).isEqualTo(200);
        // Reading the document gives the viewer no access to the API itself.
        assertThat(apiAs(VIEWER, "GET", "/api/failures", null).statusCode()).isEqualTo(403);
    }

    @Test
    void everyApiMappingIsDocumentedWithSchemasAndExamples() throws Exception {
        HttpResponse<String> fetched = apiAs(OPERATOR, "GET", "/v3/api-docs", null);
        assertThat(fetched.statusCode()).isEqualTo(200);
        JsonNode document = JSON.readTree(fetched.body());
        JsonNode paths = document.get("paths");

        Set<String> served = new TreeSet<>();
        mappings.getHandlerMethods().forEach((info, method) -> {
            for (String pattern : info.getPatternValues()) {
                if (pattern.startsWith("/api/")) {
                    Set<RequestMethod> methods = info.getMethodsCondition().getMethods();
                    assertThat(methods).as("%s declares its HTTP method", pattern).isNotEmpty();
                    methods.forEach(m -> served.add(m.name().toLowerCase(Locale.ROOT) + " " + pattern));
                }
            }
        });
        assertThat(served).as("the /api mappings Spring serves").hasSizeGreaterThanOrEqualTo(15);

        List<String> problems = new ArrayList<>();
        for (String endpoint : served) {
            String method = endpoint.substring(0, endpoint.indexOf(' '));
            String path = endpoint.substring(endpoint.indexOf(' ') + 1);
            JsonNode operation = paths.path(path).path(method);
            if (operation.isMissingNode()) {
                problems.add(endpoint + ": not in the document");
                continue;
            }
            if (operation.path("summary").asText().isBlank()) {
                problems.add(endpoint + ": no summary");
            }
            JsonNode success = successResponse(operation.path("responses"));
            if (success == null) {
                problems.add(endpoint + ": no 2xx response");
            } else if (!success.has("content") && !operation.path("responses").has("204")) {
                problems.add(endpoint + ": 2xx response without content");
            } else if (success.has("content")) {
                success.get("content").forEach(media -> {
                    if (!media.has("schema")) {
                        problems.add(endpoint + ": response without schema");
                    }
                    if (!media.has("examples") && !media.has("example")) {
                        problems.add(endpoint + ": response without example");
                    }
                });
            }
            operation.path("responses").fields().forEachRemaining(r -> {
                if (r.getKey().startsWith("4") && !r.getValue().path("content").toString().contains("#/components/schemas/Error")) {
                    problems.add(endpoint + ": refusal " + r.getKey() + " without the Error schema");
                }
            });
            if (method.equals("post") && operation.has("requestBody")) {
                operation.get("requestBody").path("content").forEach(media -> {
                    if (!media.has("schema") || !(media.has("examples") || media.has("example"))) {
                        problems.add(endpoint + ": request body without schema and example");
                    }
                });
            }
        }
        assertThat(problems).isEmpty();
        // Every operation whose address holds a whole-number id ({id}) answers 400 to "abc": the document says so, with the
        // Error shape (only the proof's said it).
        List<String> without400 = new ArrayList<>();
        paths.fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(operation -> {
            boolean numericId = false;
            for (JsonNode parameter : operation.getValue().path("parameters")) {
                numericId |= parameter.path("in").asText().equals("path") && parameter.path("schema").path("type").asText().equals("integer");
            }
            JsonNode refusal = operation.getValue().path("responses").path("400");
            if (numericId && !(refusal.path("content").toString().contains("#/components/schemas/Error")
                    && refusal.toString().contains("must be a whole number; was 'abc'"))) {
                without400.add(operation.getKey() + " " + path.getKey());
            }
        }));
        assertThat(without400).as("operations with a whole-number path id that do not list its 400").isEmpty();
        // Nothing but the API is in it (not the console's pages, not the actuator).
        paths.fieldNames().forEachRemaining(p -> assertThat(p).startsWith("/api/"));
    }

    @Test
    void theDocumentIsValidOpenApi3() throws Exception {
        String body = apiAs(OPERATOR, "GET", "/v3/api-docs", null).body();
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(body, null, options);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI()).isNotNull();
        assertThat(parsed.getOpenAPI().getOpenapi()).startsWith("3.");
        // Every reference points at a schema the document defines.
        Set<String> defined = parsed.getOpenAPI().getComponents().getSchemas().keySet();
        java.util.regex.Matcher refs = java.util.regex.Pattern.compile("\"#/components/schemas/([^\"]+)\"").matcher(body);
        while (refs.find()) {
            assertThat(defined).contains(refs.group(1));
        }
    }

    private static JsonNode successResponse(JsonNode responses) {
        for (String code : List.of("200", "201", "202", "204")) {
            if (responses.has(code)) {
                return responses.get(code);
            }
        }
        return null;
    }
}
