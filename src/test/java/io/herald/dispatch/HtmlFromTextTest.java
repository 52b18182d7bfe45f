package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The HTML part written from an email's text: escaped, in paragraphs, its https:// addresses links the customer can click. */
class HtmlFromTextTest {

    @Test
    void anInvoiceAddressInTheTextIsALinkWithoutTheFullStopAfterIt() {
        String html = HtmlFromText.of("Hello Jenny,\n\nYour invoice: https://invoice.stripe.com/i/acct_1/test_YW?s=ap&x=1.\nThanks",
                "en");
        assertThat(html).contains("<html lang=\"en\">", "<p>Hello Jenny,</p>",
                "<p>Your invoice: <a href=\"https://invoice.stripe.com/i/acct_1/test_YW?s=ap&amp;x=1\">"
                        + "https://invoice.stripe.com/i/acct_1/test_YW?s=ap&amp;x=1</a>.<br>Thanks</p>");
    }

    @Test
    void textAroundAndInsideAddressesStaysEscapedAndOnlyHttpsIsLinked() {
        assertThat(HtmlFromText.of("See (https://example.com/a) and <b>http://plain.example.com</b> \"https://x.example/q\"", "en"))
                .contains("<p>See (<a href=\"https://example.com/a\">https://example.com/a</a>) and &lt;b&gt;http://plain.example.com&lt;/b&gt;"
                        + " &quot;<a href=\"https://x.example/q\">https://x.example/q</a>&quot;</p>")
                .doesNotContain("<b>", "href=\"http://");
        assertThat(HtmlFromText.of("https:// alone", "en")).contains("<p>https:// alone</p>").doesNotContain("<a ");
        // A German quote ends the address; a bracket the address opened stays in it.
        assertThat(HtmlFromText.of("Siehe \u201Ehttps://help.example.com/kb/42\u201C. (see https://en.wikipedia.org/wiki/A_(b))", "de"))
                .contains("&bdquo;<a href=\"https://help.example.com/kb/42\">https://help.example.com/kb/42</a>&ldquo;.",
                        "(see <a href=\"https://en.wikipedia.org/wiki/A_(b)\">https://en.wikipedia.org/wiki/A_(b)</a>)</p>");
    }

    /**
     * An address with a user part before its host ("https://acme.com@evil.example/reset" goes to evil.example while it reads as
     * acme's) in a ticket's subject or a reply became a link in the HTML written from the text: a phishing link in the company's
     * own mail. Such an address stays text, as the mappings never make it a button (herald.webLinkOrNull); an @ after the host
     * (a path or a query) is no user part.
     */
    @Test
    void anAddressWithAUserPartBeforeItsHostIsNotALink() {
        assertThat(HtmlFromText.of("Reset: https://acme.com@evil.example/reset now", "en"))
                .contains("<p>Reset: https://acme.com@evil.example/reset now</p>").doesNotContain("<a ");
        assertThat(HtmlFromText.of("Reset: https://user:pw@evil.example", "en")).doesNotContain("<a ");
        assertThat(HtmlFromText.of("Mail https://help.example.com/contact?to=a@b.example today", "en"))
                .contains("<a href=\"https://help.example.com/contact?to=a@b.example\">");
    }
}
