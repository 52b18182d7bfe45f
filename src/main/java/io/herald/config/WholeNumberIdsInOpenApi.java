package io.herald.config;

import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.examples.Example;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.MethodParameter;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.method.HandlerMethod;

/**
 * Every API operation whose address holds a whole-number id ({@code /api/deliveries/{id}}, {@code .../{resendId}/approve})
 * answers 400 "id must be a whole number; was 'abc'" (ApiInputErrors) for one that is not; the OpenAPI document listed that
 * 400 for the proof alone. It is added here to each such operation, in the Error shape with that example, so a new
 * endpoint gets it without writing it again.
 */
@Component
public class WholeNumberIdsInOpenApi implements OperationCustomizer {

    private static final DefaultParameterNameDiscoverer NAMES = new DefaultParameterNameDiscoverer();

    @Override
    public Operation customize(Operation operation, HandlerMethod handler) {
        for (MethodParameter parameter : handler.getMethodParameters()) {
            PathVariable path = parameter.getParameterAnnotation(PathVariable.class);
            Class<?> type = parameter.getParameterType();
            if (path != null && (type == long.class || type == Long.class || type == int.class || type == Integer.class)) {
                parameter.initParameterNameDiscovery(NAMES);
                String name = !path.name().isEmpty() ? path.name() : !path.value().isEmpty() ? path.value() : parameter.getParameterName();
                refused(operation, name);
            }
        }
        return operation;
    }

    private static void refused(Operation operation, String name) {
        Example example = new Example().value(java.util.Map.of("error", name + " must be a whole number; was 'abc'"));
        if (operation.getResponses() == null) {
            operation.setResponses(new ApiResponses());
        }
        ApiResponse refusal = operation.getResponses().get("400");
        if (refusal == null) {
            operation.getResponses().addApiResponse("400", new ApiResponse().description("The " + name + " is not a whole number")
                    .content(new Content().addMediaType("application/json", new MediaType()
                            .schema(new Schema<>().$ref(HeraldOpenApi.ERROR)).addExamples(name + "NotAWholeNumber", example))));
            return;
        }
        // A 400 the operation lists for another reason (a body it cannot read): the id's is one more.
        if (refusal.getDescription() == null || !refusal.getDescription().contains("not a whole number")) {
            refusal.setDescription((refusal.getDescription() == null ? "" : refusal.getDescription() + "; or ") + "the " + name
                    + " is not a whole number");
        }
        if (refusal.getContent() == null) {
            refusal.setContent(new Content());
        }
        MediaType json = refusal.getContent().computeIfAbsent("application/json",
                type -> new MediaType().schema(new Schema<>().$ref(HeraldOpenApi.ERROR)));
        if (json.getExample() != null && json.getExamples() == null) {   // a single example becomes the first of two
            json.addExamples("default", new Example().value(json.getExample()));
            json.setExample(null);
            json.setExampleSetFlag(false);   // else written as "example": null beside the examples
        }
        json.addExamples(name + "NotAWholeNumber", example);
    }
}
