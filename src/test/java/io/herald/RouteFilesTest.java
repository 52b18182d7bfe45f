package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The route files as Kaoto and Hawtio show them: every node says what it does in its id and description,
 * because Kaoto drops YAML comments when it saves a file. Only a short header comment may stay.
 */
class RouteFilesTest {

    private static final Path ROUTES = Path.of("routes");

    @Test
    void everyRouteNodeHasAnIdAndADescription() throws IOException {
        List<String> missing = new ArrayList<>();
        for (Path file : routeFiles()) {
            List<Map<String, Object>> top = new Yaml().load(Files.readString(file));
            for (Map<String, Object> entry : top) {
                entry.forEach((kind, body) -> {
                    Map<String, Object> node = map(body);
                    switch (kind) {
                        case "templatedRoute" -> { } // its routeId, prefixId and parameters; the template describes the nodes
                        case "routeTemplate" -> {
                            check(file, kind, node, missing);
                            // the route's id comes from each templatedRoute
                            Map<String, Object> route = map(node.get("route"));
                            if (!route.containsKey("description")) {
                                missing.add(file.getFileName() + ": route of template " + node.get("id") + " has no description");
                            }
                            children(file, route, missing);
                        }
                        default -> {
                            check(file, kind, node, missing);
                            children(file, node, missing);
                        }
                    }
                });
            }
        }
        assertThat(missing).as("route nodes without an id or a description").isEmpty();
    }

    @Test
    void meaningLivesInDescriptionsNotInComments() throws IOException {
        List<String> comments = new ArrayList<>();
        for (Path file : routeFiles()) {
            List<String> lines = Files.readAllLines(file);
            int header = 0;
            while (header < lines.size() && lines.get(header).startsWith("#")) {
                header++;
            }
            if (header > 2) {
                comments.add(file.getFileName() + ": a header comment of " + header + " lines (at most 2; the rest belongs in descriptions)");
            }
            for (int i = header; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.startsWith("#") || line.matches(".*\\s#\\s.*") && !line.contains("\"") && !line.contains("'")) {
                    comments.add(file.getFileName() + ":" + (i + 1) + ": " + line);
                }
            }
        }
        assertThat(comments).as("YAML comments inside routes (Kaoto drops them on save)").isEmpty();
    }

    /**
     * A route's error handling comes from a routeConfiguration (error-handling.camel.yaml), never from an errorHandler on the
     * route itself: Hawtio's Camel plugin then showed no route diagram at all, for any route (found when the mapping routes
     * had one; HawtioBrowserTest failed).
     */
    @Test
    void noRouteHasAnErrorHandlerOfItsOwn() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path file : routeFiles()) {
            List<Map<String, Object>> top = new Yaml().load(Files.readString(file));
            for (Map<String, Object> entry : top) {
                entry.forEach((kind, body) -> {
                    Map<String, Object> route = "routeTemplate".equals(kind) ? map(map(body).get("route")) : "route".equals(kind) ? map(body) : Map.of();
                    if (route.containsKey("errorHandler")) {
                        found.add(file.getFileName() + ": " + kind + " " + map(body).get("id"));
                    }
                });
            }
        }
        assertThat(found).as("errorHandler on a route (use routeConfigurationId and a routeConfiguration)").isEmpty();
    }

    private static List<Path> routeFiles() throws IOException {
        try (Stream<Path> files = Files.list(ROUTES)) {
            List<Path> found = files.filter(f -> f.getFileName().toString().endsWith(".camel.yaml")).sorted().toList();
            assertThat(found).isNotEmpty();
            return found;
        }
    }

    private static void check(Path file, String kind, Map<String, Object> node, List<String> missing) {
        for (String key : List.of("id", "description")) {
            if (!(node.get(key) instanceof String value) || value.isBlank()) {
                missing.add(file.getFileName() + ": " + kind + " " + node.getOrDefault("id", "(no id)") + " has no " + key);
            }
        }
    }

    /** The nodes a route or EIP holds: from, when, otherwise, doCatch, doFinally, onException and every step. */
    private static void children(Path file, Map<String, Object> node, List<String> missing) {
        node.forEach((key, value) -> {
            switch (key) {
                case "from", "otherwise", "doFinally" -> nested(file, key, value, missing);
                case "when", "doCatch" -> ((List<?>) value).forEach(item -> nested(file, key, item, missing));
                case "onException" -> ((List<?>) value).forEach(item -> map(item).forEach((k, v) -> nested(file, k, v, missing)));
                case "steps" -> ((List<?>) value).forEach(step -> map(step).forEach((eip, body) -> nested(file, eip, body, missing)));
                default -> { }
            }
        });
    }

    private static void nested(Path file, String kind, Object value, List<String> missing) {
        Map<String, Object> node = map(value);
        check(file, kind, node, missing);
        children(file, node, missing);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
