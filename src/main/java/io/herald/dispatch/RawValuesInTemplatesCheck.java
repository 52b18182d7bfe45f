package io.herald.dispatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationRules;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.stereotype.Component;

/**
 * Fails startup when a template prints a time or an amount as the data holds it ({{amountDue}}: "49.00 USD",
 * {{nextPaymentAttempt}}: "2025-11-24T10:00:00Z") instead of its written form ({{amountDueLocal}}), for the fields
 * config/rules.yaml declares as money or date, naming the file and the variable to use (templates/README.md).
 * Sections on the raw value ({{#nextPaymentAttempt}}) are fine. TemplatesLocalisedTest checks the rendered text of
 * every template; this catches the common slip in an edited template before the first customer reads it.
 */
@Component
public class RawValuesInTemplatesCheck implements InitializingBean {

    private final NotificationCatalog catalog;
    private final NotificationRules rules;
    private final TemplateRenderer templates;

    public RawValuesInTemplatesCheck(NotificationCatalog catalog, NotificationRules rules, TemplateRenderer templates) {
        this.catalog = catalog;
        this.rules = rules;
        this.templates = templates;
    }

    @Override
    public void afterPropertiesSet() {
        List<String> problems = new ArrayList<>();
        for (NotificationCatalog.Entry entry : catalog.entries()) {
            Map<String, String> fields = rules.timeAndMoneyFields(entry.type());
            if (fields.isEmpty()) {
                continue;
            }
            for (String channel : entry.channels()) {
                List<String> parts = new ArrayList<>(ChannelDelivery.PARTS_BY_CHANNEL.get(channel));
                if ("email".equals(channel)) {
                    parts.add("html");
                }
                for (String locale : templates.localesOf(entry.templates(), channel)) {
                    for (String part : parts) {
                        problems.addAll(rawIn(templates.pathOf(entry.templates(), channel, part, locale), fields));
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("Templates print raw times or amounts (see templates/README.md): " + String.join("; ", problems));
        }
    }

    private static List<String> rawIn(Path file, Map<String, String> fields) {
        List<String> problems = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return problems;
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            return problems;   // an unreadable template fails its delivery, naming the file (TemplateRenderer)
        }
        fields.forEach((field, label) -> {
            if (Pattern.compile("\\{\\{\\{?\\s*&?\\s*" + Pattern.quote(field) + "\\s*}?}}").matcher(text).find()) {
                problems.add(file + " prints {{" + field + "}} (the " + label + ") as the data holds it; print {{" + field
                        + "Local}}" + " instead, written for the customer");
            }
        });
        return problems;
    }
}
