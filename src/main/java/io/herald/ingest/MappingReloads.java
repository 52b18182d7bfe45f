package io.herald.ingest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.camel.CamelContext;
import org.apache.camel.language.datasonnet.DatasonnetLanguage;
import org.apache.camel.spi.Resource;
import org.apache.camel.spi.ResourceReload;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.apache.camel.support.ResourceHelper;
import org.apache.camel.support.RouteWatcherReloadStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import io.herald.config.HeraldSettings;

/**
 * The local profile's live reload of routes/ (camel.main.routes-reload-*) reads again the mappings a route file names
 * (routes/crm-outbox.camel.yaml runs datasonnet/crm-outbox.ds). Camel removes a file's routes before it builds them again,
 * so a mapping that no longer compiled left the file's routes half gone (the CRM's mapping routes), its events waiting
 * unmapped with an error in the log every 30 s and nowhere else. Each mapping the file names is checked first, as at
 * startup (UTF-8 without a byte order mark, then it compiles): one that fails refuses the reload, the file's routes keep running with the mapping they had, and
 * the refusal (file, line, what to do) is shown on the console's Failures page and in /actuator/health ("mappings") until a
 * reload of that file succeeds.
 */
@Component
public class MappingReloads implements CamelContextConfiguration {

    private static final Logger log = LoggerFactory.getLogger(MappingReloads.class);
    private static final Pattern MAPPING_NAME = Pattern.compile("([A-Za-z0-9_.-]+\\.ds)\\b");

    /** A route file whose reload was refused: when, and why in words. */
    public record Refusal(String routeFile, Instant at, String reason) {
    }

    private final Path folder;
    private final Map<String, Refusal> refused = new ConcurrentHashMap<>();
    /** Each route file's content that last loaded, to build its routes again when a later version cannot be built. */
    private final Map<String, byte[]> lastLoaded = new ConcurrentHashMap<>();
    /** When each route file last reloaded: a refused save does not change it. */
    private final Map<String, Instant> loadedAt = new ConcurrentHashMap<>();
    private volatile CamelContext camel;

    public MappingReloads(HeraldSettings settings) {
        this.folder = Path.of(settings.mappingsDir());
    }

    @Override
    public void beforeApplicationStart(CamelContext camel) {
        // Nothing: the reload strategy sets its listener when it starts, with Camel.
    }

    @Override
    public void afterApplicationStart(CamelContext camel) {
        this.camel = camel;
        RouteWatcherReloadStrategy reload = camel.hasService(RouteWatcherReloadStrategy.class);
        if (reload == null || reload.getResourceReload() == null) {
            return;
        }
        rememberStartupFiles(Path.of(reload.getFolder()));
        ResourceReload routes = reload.getResourceReload();
        reload.setResourceReload((name, resource) -> {
            if (checked(name, resource)) {
                reloadOrRestore(routes, name, resource);
            }
        });
    }

    /** The route files as they loaded at startup: what a first reload that Camel cannot build goes back to. */
    private void rememberStartupFiles(Path routesFolder) {
        try (var files = Files.list(routesFolder)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                lastLoaded.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        } catch (IOException e) {
            log.warn("camel.main.routes-reload-directory: {} cannot be read ({}): a route file Camel cannot build on a live reload"
                    + " will leave its routes missing until it is corrected", routesFolder, e.getClass().getSimpleName());
        }
    }

    /**
     * Camel's reload of a checked file; when Camel cannot build it (a YAML or route mistake the mapping check does not see),
     * the routes it had removed are built again from the file's last content that loaded, and the refusal says so.
     */
    private void reloadOrRestore(ResourceReload routes, String name, Resource resource) throws Exception {
        String routeFile = Path.of(name).getFileName().toString();
        if (!resource.exists()) {
            routes.onReload(name, resource);   // deleted: Camel keeps its routes (remove-all-routes false); nothing to remember
            return;
        }
        byte[] content;
        try (var in = resource.getInputStream()) {
            content = in.readAllBytes();
        }
        try {
            routes.onReload(name, resource);
            lastLoaded.put(routeFile, content);
            loadedAt.put(routeFile, Instant.now());
        } catch (Exception e) {
            byte[] last = lastLoaded.get(routeFile);
            String restored = "";
            if (last != null) {
                try {
                    routes.onReload(name, ResourceHelper.fromBytes(resource.getLocation(), last));
                    restored = "; its routes were built again from the version that last loaded";
                } catch (Exception again) {
                    restored = "; its routes could not be built again from the version that last loaded, so some of them are"
                            + " not running";
                }
            }
            String reason = routeFile + " was not reloaded: Camel could not build its routes (a YAML or route mistake; the"
                    + " WARN 'Error reloading routes from file' in the log says where)" + restored + ". Correct the file, then save"
                    + " it again to reload it (or restart Herald)";
            refused.put(routeFile, new Refusal(routeFile, Instant.now(), reason));
            log.warn("{}", reason);
            throw e;
        }
    }

    /**
     * When the route file last reloaded with its routes built (null: not since startup). A save reported as one change can reach
     * Camel as two (emptied, then written), each reloaded in turn: the routes a corrected save brings are running once this is
     * later than the save and the file is not {@link #refused()}.
     */
    public Instant loadedAt(String routeFile) {
        return loadedAt.get(routeFile);
    }

    /** Route files whose last reload was refused, oldest first; empty when every reload went through. */
    public List<Refusal> refused() {
        return refused.values().stream().sorted(Comparator.comparing(Refusal::at)).toList();
    }

    /** Whether the route file may be reloaded: every mapping it names compiles. A refusal is kept, a success clears it. */
    boolean checked(String name, Resource resource) {
        String routeFile = Path.of(name).getFileName().toString();
        Path file;
        String routes;
        try {
            file = Path.of(resource.getURI());
            if (!Files.isRegularFile(file)) {
                refused.remove(routeFile);
                return true;
            }
            routes = new String(settled(file), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return true;   // Camel reads it and says what is wrong
        }
        if (routes.isBlank()) {
            // Caught between the two steps of a save (emptied, then written), it named no mapping, and Camel, reading it a moment
            // later, found it written: the file's routes were removed and rebuilt up to the broken mapping. The write brings its
            // own reload, checked then (Camel refuses an empty route file anyway).
            return false;
        }
        String then = "then save " + routeFile + " again to reload it (or restart Herald)";
        try {
            for (String mapping : mappingsNamed(routes)) {
                Path path = folder.resolve(mapping);
                settled(path);
                String text = MappingLibraries.text(path, then);
                if (text.isBlank()) {
                    // Caught between the two steps of its save (emptied, then written): it passed as compiling, and Camel, reading
                    // it a moment later, found it written (broken, perhaps) and removed the file's routes.
                    throw new IllegalStateException("herald.mappings-dir: " + path + " is empty (perhaps being saved): write the"
                            + " mapping into it, " + then);
                }
                MappingLibraries.compiles(path, text, libraries(), then);
            }
        } catch (IllegalStateException | IOException e) {
            String reason = routeFile + " was not reloaded; its routes keep running with the mapping they had: "
                    + (e instanceof IllegalStateException ? e.getMessage() : "herald.mappings-dir: a mapping it names cannot be read ("
                    + e.getClass().getSimpleName() + "): " + then);
            refused.put(routeFile, new Refusal(routeFile, Instant.now(), reason));
            log.warn("{}", reason);
            return false;
        }
        refused.remove(routeFile);
        return true;
    }

    /**
     * The file's bytes once they have stayed the same for {@link #QUIET}: an editor, or Java's Files.write past 8 KB, saves a
     * file in several writes, and Camel is told of the first. A reload of routes/crm-outbox.camel.yaml read up to its first
     * 8 KB named no mapping, so the check passed and Camel built the part. Waits at most {@link #AT_MOST} on the reload's
     * own thread (the file watcher's; no event waits on it).
     */
    static byte[] settled(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long deadline = System.nanoTime() + AT_MOST.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(QUIET.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return bytes;
            }
            byte[] again = Files.readAllBytes(file);
            if (java.util.Arrays.equals(again, bytes)) {
                return bytes;
            }
            bytes = again;
        }
        return bytes;
    }

    private static final java.time.Duration QUIET = java.time.Duration.ofMillis(500);
    private static final java.time.Duration AT_MOST = java.time.Duration.ofSeconds(5);

    /** The mappings of herald.mappings-dir a route file names (crm-outbox.ds), in name order. */
    private Set<String> mappingsNamed(String routes) {
        Set<String> names = new TreeSet<>();
        Matcher matcher = MAPPING_NAME.matcher(routes);
        while (matcher.find()) {
            if (Files.isRegularFile(folder.resolve(matcher.group(1)))) {
                names.add(matcher.group(1));
            }
        }
        return names;
    }

    /** The libraries the running mappings import (read at startup, MappingLibraries). */
    private Map<String, String> libraries() {
        return ((DatasonnetLanguage) camel.resolveLanguage("datasonnet")).getClasspathImports();
    }
}
