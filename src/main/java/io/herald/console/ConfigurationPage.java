package io.herald.console;

import java.security.Principal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.herald.config.SettingsMetadata;
import io.herald.config.SettingsMetadata.Setting;
import io.herald.notification.NotificationCatalog;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * For admins: the configuration Herald is running with, as people ask about it ("why did this go
 * by SMS?", "how long do we retry?"): the notification catalog and every herald.* setting in force,
 * listed from the settings' metadata (the typed records in io.herald.config), so a new setting
 * appears here without a list to keep. Secrets (passwords, tokens, webhook secrets, API keys) are
 * never shown, only whether they are set; a URL shows only where it points.
 */
@Controller
public class ConfigurationPage {

    /** A row of the settings table: a section heading (key null) or a setting. */
    public record Row(String section, String key, String value, String description) {
    }

    private final NotificationCatalog catalog;
    private final ConfigurableEnvironment environment;
    private final List<Setting> settings = SettingsMetadata.herald();

    public ConfigurationPage(NotificationCatalog catalog, ConfigurableEnvironment environment) {
        this.catalog = catalog;
        this.environment = environment;
    }

    @GetMapping("/console/config")
    public String configuration(Principal who, Model model) {
        model.addAttribute("user", ConsoleUser.of(who));
        model.addAttribute("catalogFile", catalog.source());
        model.addAttribute("catalog", catalog.entries().stream().sorted(Comparator.comparing(NotificationCatalog.Entry::type)).toList());
        Map<String, List<Setting>> sections = new LinkedHashMap<>();
        settings.stream().sorted(Comparator.comparing((Setting s) -> !s.section().equals("general")).thenComparing(Setting::section))
                .forEach(setting -> sections.computeIfAbsent(setting.section(), s -> new ArrayList<>()).add(setting));
        Binder binder = Binder.get(environment);
        List<Row> rows = new ArrayList<>();
        sections.forEach((section, inSection) -> {
            rows.add(new Row(section, null, null, null));
            inSection.forEach(setting -> rows.add(new Row(section, setting.name(), shown(setting, binder), setting.description())));
        });
        model.addAttribute("settings", rows);
        model.addAttribute("profiles", String.join(", ", environment.getActiveProfiles()));
        model.addAttribute("instance", io.herald.web.InstanceName.NAME);
        return "config";
    }

    private String shown(Setting setting, Binder binder) {
        String type = setting.type();
        String value;
        if (type.startsWith("java.util.List<")) {
            Bindable<List<Object>> list = Bindable.of(ResolvableType.forClassWithGenerics(List.class,
                    type.equals("java.util.List<java.lang.String>") || type.equals("java.util.List<java.time.Duration>")
                            ? ResolvableType.forClass(String.class)
                            : ResolvableType.forClassWithGenerics(Map.class, String.class, Object.class)));
            List<Object> items = binder.bind(setting.name(), list).orElse(List.of());
            value = setting.secret() ? items.size() + (items.size() == 1 ? " entry" : " entries")
                    : String.join(", ", items.stream().map(String::valueOf).toList());
            return value.isEmpty() ? "–" : value;
        }
        if (type.startsWith("java.util.Map<")) {
            Map<String, String> map = binder.bind(setting.name(), Bindable.mapOf(String.class, String.class)).orElse(Map.of());
            return map.isEmpty() ? "–" : map.toString();
        }
        value = environment.getProperty(setting.name());
        if (value == null) {
            value = setting.defaultValue();
        }
        if (setting.secret()) {
            return value == null || value.isBlank() ? "not set" : "set (not shown)";
        }
        if (value == null || value.isBlank()) {
            return "–";
        }
        if (setting.name().equals("herald.db.url")) {
            int query = value.indexOf('?');
            return query < 0 ? value : value.substring(0, query) + "?…";
        }
        if (setting.name().endsWith(".url") && !setting.name().equals("herald.console.base-url")) {
            return hostOnly(value);
        }
        return value;
    }

    /** A webhook URL's path can be its secret (Slack's are), so only where it points is shown. */
    static String hostOnly(String url) {
        try {
            java.net.URI uri = java.net.URI.create(url);
            return uri.getScheme() + "://" + uri.getAuthority() + "/…";
        } catch (IllegalArgumentException e) {
            return "(set)";
        }
    }
}
