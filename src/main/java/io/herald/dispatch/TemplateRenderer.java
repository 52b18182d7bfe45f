package io.herald.dispatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Renders message templates from the templates folder: templates/&lt;type&gt;/&lt;channel&gt;.&lt;part&gt;.&lt;locale&gt;.mustache,
 * trying the customer's locale (en-GB), then its language (en), then the default locale.
 * Files are read on every render, so an edited template applies to the next message.
 * Mustache is strict for variables: a missing one is an error, never a blank in a customer's message;
 * a section ({{#x}}...{{/x}}) on a missing value is simply left out, which is what sections are for.
 */
@Component
public class TemplateRenderer {

    private final Path root;
    private final String defaultLocale;
    private final Mustache.Compiler compiler = Mustache.compiler().escapeHTML(false);
    private final Mustache.Compiler htmlCompiler = Mustache.compiler().escapeHTML(true);

    public TemplateRenderer(@Value("${herald.templates-dir:templates}") String root,
                            @Value("${herald.default-locale:en}") String defaultLocale) {
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
            String source = Files.readString(file);
            Mustache.Compiler engine = part.equals("html") ? htmlCompiler : compiler;
            return engine.compile(source).execute(context).strip();
        } catch (MustacheException e) {
            throw new TemplateMissing("template " + file + " cannot be filled: " + e.getMessage());
        } catch (IOException e) {
            throw new TemplateMissing("template " + file + " cannot be read: " + e.getMessage());
        }
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
