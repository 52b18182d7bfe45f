package io.herald.ops;

import java.util.List;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ModelLifecycleStrategy;
import org.apache.camel.model.OptionalIdentifiedDefinition;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.springframework.stereotype.Component;

/**
 * Camel fills a route template's parameters into its endpoints and options but not into its descriptions, so Hawtio showed
 * every route one template made as "Send one {{channel}} delivery: {{provider}}". This fills them in (the route's, its
 * input's and every node's description) as each templated route is added, before the route is built: deliver-sms reads
 * "Send one sms delivery: … Twilio-style Messages API …". Placeholders that are not the template's parameters
 * ({{herald.…}}) are left as written.
 */
@Component
public class TemplatedRouteDescriptions implements CamelContextConfiguration, ModelLifecycleStrategy {

    @Override
    public void beforeApplicationStart(CamelContext camel) {
        ((ModelCamelContext) camel).addModelLifecycleStrategy(this);
    }

    @Override
    public void afterApplicationStart(CamelContext camel) {
        // Nothing: routes added later (a reload) go through onAddRouteDefinition too.
    }

    @Override
    public void onAddRouteDefinition(RouteDefinition route) {
        Map<String, Object> parameters = route.getTemplateParameters();
        if (parameters == null || parameters.isEmpty()) {
            return;
        }
        fill(route, parameters);
        fill(route.getInput(), parameters);
        fillAll(route.getOutputs(), parameters);
    }

    private static void fillAll(List<ProcessorDefinition<?>> nodes, Map<String, Object> parameters) {
        if (nodes == null) {
            return;
        }
        for (ProcessorDefinition<?> node : nodes) {
            fill(node, parameters);
            fillAll(node.getOutputs(), parameters);
        }
    }

    static void fill(OptionalIdentifiedDefinition<?> node, Map<String, Object> parameters) {
        String description = node == null ? null : node.getDescription();
        if (description == null || !description.contains("{{")) {
            return;
        }
        for (Map.Entry<String, Object> parameter : parameters.entrySet()) {
            description = description.replace("{{" + parameter.getKey() + "}}", String.valueOf(parameter.getValue()));
        }
        node.setDescription(description);
    }

    @Override
    public void onRemoveRouteDefinition(RouteDefinition route) {
        // Nothing to undo.
    }

    @Override
    public void onAddRouteTemplateDefinition(RouteTemplateDefinition template) {
        // The template keeps its placeholders; only the routes made from it are filled in.
    }

    @Override
    public void onRemoveRouteTemplateDefinition(RouteTemplateDefinition template) {
        // Nothing to undo.
    }
}
