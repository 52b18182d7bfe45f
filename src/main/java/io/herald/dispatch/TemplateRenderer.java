package io.herald.dispatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import io.herald.config.HeraldSettings;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Renders message templates from the templates folder: templates/&lt;type&gt;/&lt;channel&gt;.&lt;part&gt;.&lt;locale&gt;.mustache,
 * trying the customer's locale (en-GB), then its language (en), then the default locale.
 * A compiled template is kept until its file changes (modification time or size), so an edited
 * template applies to the next message while an unchanged one is not read and compiled each time.
 * Mustache is strict for variables: a missing one is an error, never a blank in a customer's message;
 * a section ({{#x}}...{{/x}}) on a missing value is simply left out, which is what sections are for.
 */
@Component
public class TemplateRenderer {

    private final Path root;
    private final String defaultLocale;
    private final Mustache.Compiler compiler = Mustache.compiler().escapeHTML(false);
    private final Mustache.Compiler htmlCompiler = Mustache.compiler().escapeHTML(true);
    private final Map<Path, Compiled> compiled = new ConcurrentHashMap<>();

    /** A compiled template and the version of the file it came from. */
    private record Compiled(FileTime modified, long size, Template template) {
    }

    @Autowired
    public TemplateRenderer(HeraldSettings settings) {
        this(settings.templatesDir(), settings.defaultLocale());
    }

    public TemplateRenderer(String root, String defaultLocale) {
        this.root = Path.of(root);
        this.defaultLocale = defaultLocale;
    }

    public String render(String type, String channel, String part, String locale, Map<String, Object> context) {
        Path file = find(type, channel, part, locale);
        if (file == null) {
            throw new TemplateMissing("no " + channel + " " + part + " template for " + type + " in locale "
                    + locale + " or " + defaultLocale + " (looked in " + root.resolve(type) + ")");
        }
        try {
            return template(file, part).execute(context).strip();
        } catch (MustacheException e) {
            throw new TemplateMissing("template " + file + " cannot be filled: " + e.getMessage());
        } catch (IOException e) {
            throw new TemplateMissing("template " + file + " cannot be read: " + e.getMessage());
        }
    }

    /** The compiled template, compiled again only when the file changed since (checked on every render). */
    private Template template(Path file, String part) throws IOException {
        BasicFileAttributes now = Files.readAttributes(file, BasicFileAttributes.class);
        Compiled kept = compiled.get(file);
        if (kept == null || !kept.modified().equals(now.lastModifiedTime()) || kept.size() != now.size()) {
            Mustache.Compiler engine = part.equals("html") ? htmlCompiler : compiler;
            kept = new Compiled(now.lastModifiedTime(), now.size(), engine.compile(Files.readString(file)));
            compiled.put(file, kept);
        }
        return kept.template();
    }

    /** Like render, for an optional part (email.html): empty when no locale has that template. */
    public Optional<String> renderOptional(String type, String channel, String part, String locale, Map<String, Object> context) {
        return find(type, channel, part, locale) == null ? Optional.empty()
                : Optional.of(render(type, channel, part, locale, context));
    }

    /** Whether the template exists for exactly this locale (no fallback): the startup check uses it. */
    public boolean exists(String type, String channel, String part, String locale) {
        return Files.isRegularFile(pathOf(type, channel, part, locale));
    }

    public Path pathOf(String type, String channel, String part, String locale) {
        return root.resolve(type).resolve(channel + "." + part + "." + locale + ".mustache");
    }

    private Path find(String type, String channel, String part, String locale) {
        for (String candidate : candidates(locale)) {
            Path file = pathOf(type, channel, part, candidate);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        return null;
    }

    private List<String> candidates(String locale) {
        List<String> out = new ArrayList<>();
        if (locale != null && !locale.isBlank()) {
            Locale parsed = Locale.forLanguageTag(locale.replace('_', '-'));
            out.add(parsed.toLanguageTag());
            out.add(parsed.getLanguage());
        }
        out.add(defaultLocale);
        return out.stream().distinct().toList();
    }
}
