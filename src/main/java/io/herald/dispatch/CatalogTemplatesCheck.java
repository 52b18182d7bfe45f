package io.herald.dispatch;

import java.util.ArrayList;
import java.util.List;

import io.herald.config.HeraldSettings;
import io.herald.notification.NotificationCatalog;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Fails startup when the catalog sends a type on a channel that has no template in the default
 * locale, naming the catalog key and the file to add, rather than failing every such delivery; and
 * when a locale has some parts of a channel's message but not all (a message is written in one locale,
 * TemplateRenderer.localeFor, so such a translation would never be used), naming the file missing.
 */
@Component
public class CatalogTemplatesCheck implements InitializingBean {

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
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Notification catalog " + catalog.source() + ": " + String.join("; ", missing));
        }
    }

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
