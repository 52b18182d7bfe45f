package io.herald.notification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.herald.dispatch.CatalogTemplatesCheck;
import io.herald.dispatch.TemplateRenderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog as shipped loads; a broken one stops startup with the file and the key at fault. */
class NotificationCatalogTest {

    @TempDir
    Path dir;

    /** A folder no type uses (a misspelt type) is named at startup, with the folder it was probably meant to be. */
    @Test
    void aTemplateFolderNoTypeUsesIsNamedWithTheTypeItWasProbablyMeantFor(@org.junit.jupiter.api.io.TempDir java.nio.file.Path root)
            throws java.io.IOException {
        java.nio.file.Files.createDirectories(root.resolve("billing.payment_failed"));
        java.nio.file.Files.createDirectories(root.resolve("billing.payment_faild"));
        java.nio.file.Files.createDirectories(root.resolve("marketing.newsletter"));
        NotificationCatalog shipped = new NotificationCatalog("config/catalog.yaml");
        assertThat(new CatalogTemplatesCheck(shipped, new TemplateRenderer(root.toString(), "en"), "en").unused()).containsExactly(
                "templates/billing.payment_faild is the template folder of no type in " + shipped.source()
                        + ": its templates are never used; did you mean templates/billing.payment_failed?",
                "templates/marketing.newsletter is the template folder of no type in " + shipped.source() + ": its templates are never used");
        assertThat(new CatalogTemplatesCheck(shipped, new TemplateRenderer("templates", "en"), "en").unused()).isEmpty();
    }

    @Test
    void theShippedCatalogLoadsWithStrategiesTemplatesAndWindows() {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        NotificationCatalog.Entry reply = catalog.entry("support.agent_replied");
        assertThat(reply.channels()).containsExactly("push", "sms", "email");
        assertThat(reply.firstSuccess()).isTrue();
        assertThat(reply.templates()).isEqualTo("support.agent_replied");
        assertThat(catalog.entry("billing.payment_failed").window()).isEqualTo(Duration.ofHours(1));
        assertThat(catalog.entry("billing.payment_failed").firstSuccess()).isFalse();
        // Every channel of every type has its templates in the default locale.
        new CatalogTemplatesCheck(catalog, new TemplateRenderer("templates", "en"), "en").afterPropertiesSet();
    }

    /** A misspelt setting (approval, late) would have been switched off without a word; a type written twice kept the later one. */
    @Test
    void aMisspeltKeyOrATypeWrittenTwiceStopsStartup() throws IOException {
        assertRefused("""
                notifications:
                  billing.refund_issued:
                    category: billing
                    priority: normal
                    channels: [email]
                    window: PT24H
                    aproval: {field: amountRefunded, above: 1000}
                """, "key 'notifications.billing.refund_issued.aproval' is not a catalog setting; known: [approval,");
        assertRefused("""
                notification:
                  billing.refund_issued: {category: billing, priority: normal, channels: [email], window: PT24H}
                """, "key 'notifications' must be a map");
        assertRefused("""
                notifications:
                  billing.refund_issued: {category: billing, priority: normal, channels: [email], window: PT24H}
                categoreis: {}
                """, "key 'categoreis' is not a catalog setting; known: [categories, notifications]");
        assertRefused("""
                notifications:
                  billing.refund_issued: {category: billing, priority: normal, channels: [email], window: PT24H}
                  billing.refund_issued: {category: billing, priority: normal, channels: [sms], window: PT24H}
                """, "found duplicate key billing.refund_issued");
    }

    @Test
    void aBrokenEntryNamesTheFileAndTheKey() throws IOException {
        assertRefused("""
                notifications:
                  crm.order_confirmed:
                    category: orders
                    priority: normal
                    channels: [email, fax]
                    window: PT15M
                """, "key 'notifications.crm.order_confirmed.channels' has unknown channel 'fax'");
        assertRefused("""
                notifications:
                  crm.order_confirmed:
                    category: orders
                    priority: normal
                    channels: [push, sms]
                    strategy: whichever
                    window: PT15M
                """, "key 'notifications.crm.order_confirmed.strategy' must be one of");
        assertRefused("""
                notifications:
                  crm.order_confirmed:
                    category: orders
                    priority: normal
                    channels: [push, ops_webhook, sms]
                    strategy: first-success
                    window: PT15M
                """, "key 'notifications.crm.order_confirmed.channels' cannot list ops_webhook with strategy first-success");
        assertRefused("""
                notifications:
                  crm.order_confirmed:
                    category: orders
                    priority: normal
                    channels: [email]
                    window: fifteen minutes
                """, "key 'notifications.crm.order_confirmed.window' must be an ISO-8601 duration such as PT15M or PT24H, was 'fifteen minutes'");
        assertRefused("""
                notifications:
                  crm.order_confirmed:
                    category: orders
                    priority: urgent
                    channels: [email]
                    window: PT15M
                """, "key 'notifications.crm.order_confirmed.priority' must be one of");
        assertRefused("""
                notifications:
                  crm.order_confirmed:
                    category: orders
                    priority: normal
                    channels: [email]
                """, "key 'notifications.crm.order_confirmed.window' is required");
        assertRefused("""
                notifications:
                  billing.payment_failed:
                    category: billing
                    priority: high
                    channels: [email, ops_webhook]
                    ops: grouped
                    window: PT1H
                """, "key 'notifications.billing.payment_failed.ops' must be one of");
        assertRefused("""
                notifications:
                  billing.refund_issued:
                    category: billing
                    priority: normal
                    channels: [email]
                    window: PT1H
                    approval: required
                    late: hold
                """, "key 'notifications.billing.refund_issued.late' cannot be 'hold' for a type that requires approval");
        assertRefused("notifications: [1, 2", "is not valid YAML");
    }

    @Test
    void aChannelWithoutItsTemplateStopsStartupNamingTheFileToAdd() throws IOException {
        Path file = dir.resolve("catalog.yaml");
        Files.writeString(file, """
                notifications:
                  crm.order_confirmed:
                    category: orders
                    priority: normal
                    channels: [email, sms]
                    window: PT15M
                """);
        NotificationCatalog catalog = new NotificationCatalog(file.toString());
        assertThatThrownBy(() -> new CatalogTemplatesCheck(catalog, new TemplateRenderer("templates", "en"), "en").afterPropertiesSet())
                .hasMessageContaining(file.toString())
                .hasMessageContaining("key 'notifications.crm.order_confirmed.channels' lists sms but templates/crm.order_confirmed/sms.text.en.mustache does not exist");
    }

    /**
     * HERALD_DEFAULT_LOCALE set to a locale the templates are not written in (fr, or en spelt EN or en_GB) names that
     * setting; it used to blame every type's channels in the catalog, some forty template files to add.
     */
    @Test
    void aDefaultLocaleNoTemplateIsWrittenInNamesTheSetting() {
        NotificationCatalog shipped = new NotificationCatalog("config/catalog.yaml");
        for (String locale : java.util.List.of("fr", "EN", "en_GB")) {
            assertThatThrownBy(() -> new CatalogTemplatesCheck(shipped, new TemplateRenderer("templates", locale), locale).afterPropertiesSet())
                    .hasMessageStartingWith("herald.default-locale is '" + locale + "', but no template of the types in " + shipped.source()
                            + " is written in it (their locales: de, en).")
                    .hasMessageContaining("set herald.default-locale (environment variable HERALD_DEFAULT_LOCALE) to one of those")
                    .hasMessageNotContaining("does not exist");
        }
    }

    /**
     * HERALD_CATALOG or HERALD_TEMPLATES_DIR naming nothing (a typo, a volume not mounted) names the setting to correct: the
     * catalog's message was the path again, the templates' some forty missing files blamed on the catalog.
     */
    @Test
    void aCatalogOrTemplatesFolderThatIsNotThereNamesTheSetting() {
        assertThatThrownBy(() -> new NotificationCatalog("config/catalgo.yaml"))
                .hasMessage("Notification catalog config/catalgo.yaml cannot be read: there is no such file (herald.catalog, environment"
                        + " variable HERALD_CATALOG, names it)");
        NotificationCatalog shipped = new NotificationCatalog("config/catalog.yaml");
        assertThatThrownBy(() -> new CatalogTemplatesCheck(shipped, new TemplateRenderer("/etc/herald/templates", "en"), "en").afterPropertiesSet())
                .hasMessageStartingWith("herald.templates-dir is '/etc/herald/templates', which is not a folder Herald can read")
                .hasMessageContaining("set herald.templates-dir (environment variable HERALD_TEMPLATES_DIR)")
                .hasMessageNotContaining("does not exist");
    }

    /**
     * A catalog saved in Windows-1252 or Latin-1 (a comment with "Grüße" from an old editor) stopped startup with Java's
     * "is not valid YAML: java.nio.charset.MalformedInputException: Input length = 1": no line, and words for engineers.
     */
    @Test
    void aCatalogNotSavedAsUtf8StopsStartupNamingTheLineAndTheRemedy() throws IOException {
        Path file = dir.resolve("catalog.yaml");
        Files.write(file, ("# Grüße from the billing team\n" + Files.readString(Path.of("config/catalog.yaml")))
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessage("Notification catalog " + file + " is not UTF-8 text (line 1 has a character saved in another encoding,"
                        + " such as Windows-1252 or Latin-1): save the file as UTF-8");
    }

    private void assertRefused(String yaml, String expected) throws IOException {
        Path file = Files.createTempFile(dir, "catalog", ".yaml");
        Files.writeString(file, yaml);
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessageContaining("Notification catalog " + file)
                .hasMessageContaining(expected);
    }
}
