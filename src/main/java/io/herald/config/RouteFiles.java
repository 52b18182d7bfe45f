package io.herald.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.apache.camel.util.AntPathMatcher;

/**
 * herald.routes (HERALD_ROUTES) must name route files that are there: a misspelt folder used to stop startup with Camel's
 * "NoSuchFileException: rotues" deep in a stack trace, the setting never named. Checked when the settings are bound, so
 * the failure box names the key, the value and where it was set. Only file: entries are checked (classpath: ones are
 * Camel's to find). A pattern is matched as Camel matches it, Ant style (a ** folder takes the files of the folder itself
 * too, which a java.nio glob does not), so a pattern Camel loads is never refused here.
 */
final class RouteFiles {

    private RouteFiles() {
    }

    static void check(String pattern) {
        for (String entry : pattern.split(",")) {
            String location = entry.strip();
            if (!location.startsWith("file:")) {
                continue;
            }
            String path = location.substring("file:".length());
            int wildcard = indexOfWildcard(path);
            int slash = path.lastIndexOf('/', wildcard < 0 ? path.length() - 1 : wildcard);
            Path folder = Path.of(slash < 0 ? "." : slash == 0 ? "/" : path.substring(0, slash));
            if (!Files.isDirectory(folder)) {
                throw new IllegalArgumentException("herald.routes names route files in the folder " + folder + ", which is not there ("
                        + folder.toAbsolutePath() + "); set it to the Camel YAML routes, file:routes/*.camel.yaml in the image and the"
                        + " repository");
            }
            if (!matchesAFile(folder, path.substring(slash + 1))) {
                throw new IllegalArgumentException("herald.routes matches no file in " + folder.toAbsolutePath() + " (" + location
                        + "); set it to the Camel YAML routes, file:routes/*.camel.yaml in the image and the repository");
            }
        }
    }

    private static int indexOfWildcard(String path) {
        int star = path.indexOf('*');
        int question = path.indexOf('?');
        return star < 0 ? question : question < 0 ? star : Math.min(star, question);
    }

    private static boolean matchesAFile(Path folder, String pattern) {
        try (Stream<Path> files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).map(file -> folder.relativize(file).toString().replace('\\', '/'))
                    .anyMatch(file -> AntPathMatcher.INSTANCE.match(pattern, file));
        } catch (IOException e) {
            return false;
        }
    }
}
