package io.herald.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import org.junit.jupiter.api.Test;

/** A span that called the ops webhook reaches the exporter with the webhook's URL named, not written out. */
class SecretsOutOfSpansTest {

    private static final String OPS_URL = "https://hooks.slack.com/services/T0AAAA/B0BBBB/xoxSecretPart123";

    @Test
    void theOpsWebhookUrlIsReplacedAndEverythingElseKept() {
        InMemorySpanExporter exported = InMemorySpanExporter.create();
        SecretsOutOfSpans exporter = new SecretsOutOfSpans(exported,
                List.of(new SecretsOutOfSpans.Secret(OPS_URL, "(the ops webhook URL)"), new SecretsOutOfSpans.Secret("", "blank: ignored")));

        exporter.export(List.of(span("POST", Attributes.of(AttributeKey.stringKey("http.url"), OPS_URL + "?x=1",
                        AttributeKey.stringKey("camel.uri"), "http://ops-webhook", AttributeKey.longKey("http.status_code"), 200L)),
                span("POST", Attributes.of(AttributeKey.stringKey("http.url"), "http://localhost:8089/2010-04-01/Accounts/ACdemo/Messages.json"))));

        List<SpanData> spans = exported.getFinishedSpanItems();
        assertThat(spans.get(0).getAttributes().get(AttributeKey.stringKey("http.url"))).isEqualTo("(the ops webhook URL)?x=1");
        assertThat(spans.get(0).getAttributes().get(AttributeKey.stringKey("camel.uri"))).isEqualTo("http://ops-webhook");
        assertThat(spans.get(0).getAttributes().get(AttributeKey.longKey("http.status_code"))).isEqualTo(200L);
        assertThat(spans.get(0).getName()).isEqualTo("POST");
        assertThat(spans.get(0).getAttributes().toString()).doesNotContain("xoxSecretPart123");
        // A span that names no secret is passed on as it is.
        assertThat(spans.get(1).getAttributes().get(AttributeKey.stringKey("http.url"))).endsWith("/Accounts/ACdemo/Messages.json");
    }

    /**
     * A failed exchange's span carries the exception as an event, with the mail server's reply naming the customer's address:
     * masked as in Herald's logs, in the event as in the span's attributes.
     */
    @Test
    void emailAddressesAndPhoneNumbersInASpanAndItsEventsAreMasked() {
        InMemorySpanExporter exported = InMemorySpanExporter.create();
        SecretsOutOfSpans exporter = new SecretsOutOfSpans(exported, List.of());
        String reply = "550 5.1.1 <jenny.rosen@example.org>: Recipient address rejected; SMS to +447700900123 failed";
        SpanData failed = TestSpanData.builder().setName("deliver-email").setKind(SpanKind.INTERNAL).setStartEpochNanos(1)
                .setEndEpochNanos(2).setHasEnded(true).setStatus(StatusData.error())
                .setAttributes(Attributes.of(AttributeKey.stringKey("camel.exception"), reply))
                .setEvents(List.of(io.opentelemetry.sdk.trace.data.EventData.create(1, "exception",
                        Attributes.of(AttributeKey.stringKey("exception.message"), reply, AttributeKey.stringKey("exception.stacktrace"),
                                "jakarta.mail.SendFailedException: " + reply + "\n\tat org.eclipse.angus.mail.smtp.SMTPTransport"))))
                .setTotalRecordedEvents(1).build();

        exporter.export(List.of(failed));

        SpanData span = exported.getFinishedSpanItems().get(0);
        String everything = span.getAttributes().toString() + span.getEvents();
        assertThat(everything).doesNotContain("jenny.rosen@example.org", "+447700900123", "7700900123")
                .contains("j***@example.org", "Recipient address rejected");
        assertThat(span.getEvents()).singleElement().satisfies(event -> assertThat(event.getName()).isEqualTo("exception"));
    }

    private static SpanData span(String name, Attributes attributes) {
        return TestSpanData.builder().setName(name).setKind(SpanKind.CLIENT).setStartEpochNanos(1).setEndEpochNanos(2).setHasEnded(true)
                .setStatus(StatusData.unset()).setAttributes(attributes).build();
    }
}
