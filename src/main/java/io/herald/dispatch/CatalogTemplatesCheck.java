package io.herald.dispatch;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import io.herald.config.HeraldSettings;
import io.herald.notification.NotificationCatalog;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Fails startup when the catalog sends a type on a channel that has no template in the default
 * locale, naming the catalog key and the file to add, rather than failing every such delivery; and
 * when a locale has some parts of a channel's message but not all (a message is written in one locale,
 * TemplateRenderer.localeFor, so such a translation would never be used), naming the file missing; and when a template
 * does not compile (an unclosed section), naming the file and line: it would fail every message of its type.
 */
@Component
public class CatalogTemplatesCheck implements InitializingBean {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CatalogTemplatesCheck.class);

    private final NotificationCatalog catalog;
    private final TemplateRenderer templates;
    private final String defaultLocale;

    @Autowired
    public CatalogTemplatesCheck(NotificationCatalog catalog, TemplateRenderer templates, HeraldSettings settings) {
        this(catalog, templates, settings.defaultLocale());
    }

    public CatalogTemplatesCheck(NotificationCatalog catalog, TemplateRenderer templates, String defaultLocale) {
        this.catalog = catalog;
        this.templates = templates;
        this.defaultLocale = defaultLocale;
    }

    @Override
    public void afterPropertiesSet() {
        templatesFolderReadable();
        defaultLocaleWritten();
        List<String> missing = new ArrayList<>();
        for (NotificationCatalog.Entry entry : catalog.entries()) {
            for (String channel : entry.channels()) {
                for (String part : ChannelDelivery.PARTS_BY_CHANNEL.get(channel)) {
                    if (!templates.exists(entry.templates(), channel, part, defaultLocale)) {
                        missing.add("key 'notifications." + entry.type() + ".channels' lists " + channel + " but "
                                + templates.pathOf(entry.templates(), channel, part, defaultLocale) + " does not exist");
                    }
                }
                missing.addAll(incompleteLocales(entry.templates(), channel));
                missing.addAll(unreadable(entry.templates(), channel));
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Notification catalog " + catalog.source() + ": " + String.join("; ", missing));
        }
        unused().forEach(log::warn);
    }

    /**
     * herald.templates-dir naming no folder (a typo, a volume not mounted) is named as the setting to correct; it used to
     * be reported as every template file missing, blamed on config/catalog.yaml.
     */
    private void templatesFolderReadable() {
        if (!Files.isDirectory(templates.folder()) || !Files.isReadable(templates.folder())) {
            throw new IllegalStateException("herald.templates-dir is '" + templates.folder() + "', which is not a folder Herald can"
                    + " read (" + templates.folder().toAbsolutePath() + "): set herald.templates-dir (environment variable"
                    + " HERALD_TEMPLATES_DIR) to the folder of the message templates, templates/ in the image and the repository");
        }
    }

    /**
     * herald.default-locale set to a locale no template is written in (fr, EN, en_GB, en-GB beside the shipped en and de)
     * is named as the setting to correct: it used to be reported as every type's channels lacking their templates, some
     * forty files blamed on config/catalog.yaml, and the setting itself never named.
     */
    private void defaultLocaleWritten() {
        Set<String> written = new TreeSet<>();
        for (NotificationCatalog.Entry entry : catalog.entries()) {
            for (String channel : entry.channels()) {
                written.addAll(templates.localesOf(entry.templates(), channel));
            }
        }
        if (!written.isEmpty() && !written.contains(defaultLocale)) {
            throw new IllegalStateException("herald.default-locale is '" + defaultLocale + "', but no template of the types in "
                    + catalog.source() + " is written in it (their locales: " + String.join(", ", written) + "). A message falls"
                    + " back to this locale when the customer's own has no template, so every type needs it: set"
                    + " herald.default-locale (environment variable HERALD_DEFAULT_LOCALE) to one of those, written as the"
                    + " template files are, or add the " + defaultLocale + " templates of every type and channel");
        }
    }

    /**
     * A folder in templates/ that no type of the catalog uses, in words, with the folder a type does use when its name is
     * one or two letters away (templates/billing.subscription_canceled beside the catalog's billing.subscription_cancelled):
     * its templates are never read, and an edit there changes nothing. Logged, not refused: a test's or an environment's
     * smaller catalog may leave shipped folders unused.
     */
    public List<String> unused() {
        java.util.Set<String> used = new java.util.TreeSet<>();
        catalog.entries().forEach(entry -> used.add(entry.templates()));
        List<String> unused = new ArrayList<>();
        for (String folder : templates.folders()) {
            if (!used.contains(folder)) {
                String near = used.stream().filter(u -> distance(u, folder) <= 2)
                        .min(java.util.Comparator.comparingInt(u -> distance(u, folder))).orElse(null);
                unused.add("templates/" + folder + " is the template folder of no type in " + catalog.source()
                        + ": its templates are never used" + (near == null ? "" : "; did you mean templates/" + near + "?"));
            }
        }
        return unused;
    }

    /** Levenshtein distance: how many letters to add, remove or change to turn one name into the other. */
    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            int[] current = new int[b.length() + 1];
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int change = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(change, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            previous = current;
        }
        return previous[b.length()];
    }

    /** Every template of the channel, in every locale, that does not compile (an unclosed section, a stray tag), in words. */
    private List<String> unreadable(String folder, String channel) {
        List<String> problems = new ArrayList<>();
        for (String locale : templates.localesOf(folder, channel)) {
            for (String part : PARTS_AND_OPTIONAL.getOrDefault(channel, ChannelDelivery.PARTS_BY_CHANNEL.get(channel))) {
                String problem = templates.unreadable(folder, channel, part, locale);
                if (problem != null) {
                    problems.add(problem);
                }
            }
        }
        return problems;
    }

    /** The parts a channel's message may have: the required ones and, for email, its optional HTML. */
    private static final java.util.Map<String, List<String>> PARTS_AND_OPTIONAL = java.util.Map.of(
            "email", java.util.stream.Stream.concat(ChannelDelivery.PARTS_BY_CHANNEL.get("email").stream(), java.util.stream.Stream.of("html"))
                    .distinct().toList());

    /** A locale other than the default with some of the channel's parts: each part it lacks, in words. */
    private List<String> incompleteLocales(String folder, String channel) {
        List<String> problems = new ArrayList<>();
        for (String locale : templates.localesOf(folder, channel)) {
            if (locale.equals(defaultLocale)) {
                continue;
            }
            for (String part : ChannelDelivery.PARTS_BY_CHANNEL.get(channel)) {
                if (!templates.exists(folder, channel, part, locale)) {
                    problems.add(templates.pathOf(folder, channel, part, locale) + " does not exist, though other " + channel
                            + " parts in locale " + locale + " do: a message is written in one locale, so customers in "
                            + locale + " would get it in another; add the part or remove the locale's other " + channel + " files");
                }
            }
        }
        return problems;
    }
}
