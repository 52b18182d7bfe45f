package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A template that cannot be filled fails its delivery with a reason an operator can act on: which file, which line,
 * which variable, and what to change; never the template engine's own message alone.
 */
class TemplateFailureReasonTest {

    @TempDir
    Path templates;

    @Test
    void aVariableTheNotificationDoesNotHaveIsNamedWithItsLineAndTheWaysToFixIt() throws Exception {
        write("email.text.en.mustache", "Hello {{customer.name}},\n\npay here: {{hostedInvoiceUrl}}\n");
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "en",
                Map.of("customer", Map.of("name", "Jenny"))))
                .isInstanceOf(TemplateMissing.class)
                .hasMessage("template billing.payment_failed/email.text.en.mustache"
                        + " cannot be filled: line 3 uses {{hostedInvoiceUrl}}, which this notification does not have or leaves"
                        + " empty: correct the name, add it to the source's mapping, or put it inside a section"
                        + " ({{#hostedInvoiceUrl}}...{{/hostedInvoiceUrl}}) so that it is left out when missing")
                .message().doesNotContain("No method or field");
    }

    @Test
    void aTemplateThatIsNotMustacheSaysSoAndThatTheCorrectedFileApplies() throws Exception {
        write("email.text.en.mustache", "Hello {{#customer}}{{name}}\n");
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "en",
                Map.of("customer", Map.of("name", "Jenny"))))
                .isInstanceOf(TemplateMissing.class)
                .hasMessageStartingWith("template billing.payment_failed/email.text.en.mustache is not valid Mustache (")
                .hasMessageContaining("customer")
                .hasMessageEndingWith("): correct the template; the next message uses the corrected file");
    }

    /**
     * A template removed while its messages waited is named as the operator ships it, inside the templates folder, never by
     * where this server keeps that folder (it read "looked for /app/templates/billing.payment_failed/...").
     */
    @Test
    void aMissingTemplateIsNamedInsideTheTemplatesFolderNotByTheServersPath() throws Exception {
        write("email.text.en.mustache", "Hello {{name}}");
        Files.delete(templates.resolve("billing.payment_failed/email.subject.en.mustache"));
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "subject", "de-DE", Map.of("name", "Jenny")))
                .isInstanceOf(TemplateMissing.class)
                .hasMessage("no email subject template for billing.payment_failed in locale en (the message's locale for de-DE; looked"
                        + " for billing.payment_failed/email.subject.en.mustache in the templates folder): add the template (or restore"
                        + " it), then retry this delivery; the next attempt uses it")
                .message().doesNotContain(templates.toString());
    }

    /** An empty template (an editor's save caught half-way) never writes a blank message part, and startup refuses it. */
    @Test
    void anEmptyTemplateFailsItsMessageNamingTheFileAndIsRefusedAtStartup() throws Exception {
        write("email.text.en.mustache", "\n");
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "en", Map.of("name", "Jenny")))
                .isInstanceOf(TemplateEmptied.class)
                .hasMessageStartingWith("template billing.payment_failed/email.text.en.mustache wrote nothing for this message")
                .satisfies(e -> assertThat(((TemplateEmptied) e).waiting())
                        .isEqualTo("template billing.payment_failed/email.text.en.mustache was empty (perhaps being saved)"));
        assertThat(renderer.unreadable("billing.payment_failed", "email", "text", "en"))
                .endsWith("email.text.en.mustache is empty: write the message in it (every message of its type would fail), or remove it");
    }

    /**
     * A template whose every line is inside sections this notification leaves out writes nothing too, but its file is not
     * empty: that is the template's fault, not a save in progress, so it fails the message (it is not parked to be tried again).
     */
    @Test
    void aTemplateThatWritesNothingForThisMessageButIsNotEmptyIsNotTakenForOneBeingSaved() throws Exception {
        write("email.text.en.mustache", "{{#invoiceUrl}}Pay here: {{invoiceUrl}}{{/invoiceUrl}}\n");
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "en", Map.of("name", "Jenny")))
                .isInstanceOf(TemplateMissing.class)
                .isNotInstanceOf(TemplateEmptied.class)
                .hasMessage("template billing.payment_failed/email.text.en.mustache wrote nothing for this message (all of it is inside"
                        + " sections this notification leaves out): correct the template, then retry this delivery; the next attempt"
                        + " uses the file as it is then");
    }

    /**
     * A template holding only Mustache comments ({{! ... }}), whitespace around them, or its own delimiters' comments, writes
     * nothing for any message: it passed the startup check and failed every message saying its sections stayed out. Startup
     * refuses it as it refuses an empty file; live, it fails its message saying what it is (it is a whole file, not one caught
     * while being saved, so it is not parked).
     */
    @Test
    void aTemplateHoldingOnlyCommentsIsRefusedAtStartupAndFailsItsMessageSayingSo() throws Exception {
        for (String text : java.util.List.of("{{! Sent when a payment fails }}\n", "\n  {{! subject: see the other file }}\n\n{{!\nnote\n}}\n",
                "{{=<% %>=}}\n<%! written later %>\n")) {
            write("email.text.en.mustache", text);
            TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

            assertThat(renderer.unreadable("billing.payment_failed", "email", "text", "en")).as(text)
                    .endsWith("email.text.en.mustache holds only comments ({{! ... }}) and writes nothing: write the message in it"
                            + " (every message of its type would fail), or remove it");
            assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "en", Map.of("name", "Jenny")))
                    .as(text)
                    .isInstanceOf(TemplateMissing.class)
                    .isNotInstanceOf(TemplateEmptied.class)
                    .hasMessage("template billing.payment_failed/email.text.en.mustache wrote nothing for this message (it holds only"
                            + " comments, {{! ... }}): write the message in it, then retry this delivery; the next attempt uses the file"
                            + " as it is then");
        }
    }

    /**
     * A file cut off in the middle of a tag (an editor's save that stopped half-way, a truncated copy): the template engine
     * took the unclosed "{{invoiceNumb" for text, and the customer read it. It is refused, live and at startup, naming the
     * file and the line.
     */
    @Test
    void aTemplateCutOffInsideATagIsRefusedNamingItsLineNotSentWithTheBracesInIt() throws Exception {
        write("email.text.en.mustache", "Hello {{name}},\n\nyour invoice {{invoiceNumb");
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "en",
                Map.of("name", "Jenny", "invoiceNumber", "INV-1")))
                .isInstanceOf(TemplateMissing.class)
                .hasMessageStartingWith("template billing.payment_failed/email.text.en.mustache is not valid Mustache (")
                .hasMessageContaining("line 3", "{{ that is never closed")
                .hasMessageEndingWith("): correct the template; the next message uses the corrected file");
        assertThat(renderer.unreadable("billing.payment_failed", "email", "text", "en"))
                .contains("email.text.en.mustache is not a template Herald can read", "line 3", "{{ that is never closed");
    }

    /**
     * A template that changes its tag delimiters ({{=<% %>=}}, what Mustache offers for a text with literal braces in it) may
     * write "{{" as text: it was refused as "cut off inside a tag", live and at startup, and every message of its type failed.
     * A file with such delimiters cut off inside one of its own tags ("<%invoiceNumb") is the one refused.
     */
    @Test
    void aTemplateWithItsOwnDelimitersMayWriteBracesAndIsRefusedOnlyWhenCutOffInsideItsOwnTag() throws Exception {
        write("email.text.en.mustache", "{{=<% %>=}}Hello <%name%>,\n\nin the portal, type {{ to start a formula");
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThat(renderer.render("billing.payment_failed", "email", "text", "en", Map.of("name", "Jenny")))
                .isEqualTo("Hello Jenny,\n\nin the portal, type {{ to start a formula");
        assertThat(renderer.unreadable("billing.payment_failed", "email", "text", "en")).isNull();

        write("email.text.en.mustache", "{{=<% %>=}}Hello <%name%>,\n\nyour invoice <%invoiceNumb");
        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "en",
                Map.of("name", "Jenny", "invoiceNumber", "INV-1")))
                .isInstanceOf(TemplateMissing.class)
                .hasMessageContaining("line 3", "<% that is never closed")
                .hasMessageEndingWith("): correct the template; the next message uses the corrected file");
        assertThat(renderer.unreadable("billing.payment_failed", "email", "text", "en"))
                .contains("is not a template Herald can read", "line 3", "<% that is never closed");
    }

    /**
     * A template saved in Windows-1252 or Latin-1 (a German "Grüße" typed in an old editor) is not UTF-8: its reason said it had
     * been removed or renamed, or that Herald may not read it, and startup named only "MalformedInputException". Both now
     * say what it is and what to do.
     */
    @Test
    void aTemplateNotSavedAsUtf8IsNamedAsSuchLiveAndAtStartup() throws Exception {
        write("email.text.de.mustache", "");
        Path file = templates.resolve("billing.payment_failed/email.text.de.mustache");
        Files.write(file, "Hallo {{name}},\nviele Grüße".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Files.writeString(templates.resolve("billing.payment_failed/email.subject.de.mustache"), "Zahlung fehlgeschlagen");
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThatThrownBy(() -> renderer.render("billing.payment_failed", "email", "text", "de", Map.of("name", "Jenny")))
                .isInstanceOf(TemplateMissing.class)
                .hasMessage("template billing.payment_failed/email.text.de.mustache is not UTF-8 text (line 2 has a character saved in"
                        + " another encoding, such as Windows-1252 or Latin-1): save the file as UTF-8; the next message uses the"
                        + " corrected file");
        assertThat(renderer.unreadable("billing.payment_failed", "email", "text", "de"))
                .isEqualTo(file + " is not UTF-8 text (line 2 has a character saved in another encoding, such as Windows-1252 or"
                        + " Latin-1): save the file as UTF-8");
    }

    /**
     * A template saved with a byte order mark (an invisible U+FEFF that some Windows editors write first) kept it at the start
     * of the part it writes: an email's text and HTML, a push or in-app body. No part starts with it now, and the file is not
     * refused at startup for it.
     */
    @Test
    void aTemplateSavedWithAByteOrderMarkWritesNoInvisibleMarkInAnyPart() throws Exception {
        write("email.text.en.mustache", "\uFEFFHello {{name}},\n\nyour payment failed.");
        for (String part : java.util.List.of("email.html", "push.title", "push.body", "in_app.title", "in_app.body", "sms.text")) {
            write(part + ".en.mustache", "\uFEFF" + part + " for {{name}}");
        }
        TemplateRenderer renderer = new TemplateRenderer(templates.toString(), "en");

        assertThat(renderer.render("billing.payment_failed", "email", "text", "en", Map.of("name", "Jenny")))
                .isEqualTo("Hello Jenny,\n\nyour payment failed.");
        for (String part : java.util.List.of("email.html", "push.title", "push.body", "in_app.title", "in_app.body", "sms.text")) {
            String[] channelAndPart = part.split("\\.");
            assertThat(renderer.render("billing.payment_failed", channelAndPart[0], channelAndPart[1], "en", Map.of("name", "Jenny")))
                    .as(part).isEqualTo(part + " for Jenny");
            assertThat(renderer.unreadable("billing.payment_failed", channelAndPart[0], channelAndPart[1], "en")).as(part).isNull();
        }
    }

    private void write(String name, String text) throws Exception {
        Path folder = Files.createDirectories(templates.resolve("billing.payment_failed"));
        Files.writeString(folder.resolve(name), text);
        Files.writeString(folder.resolve("email.subject.en.mustache"), "Payment failed");
    }
}
