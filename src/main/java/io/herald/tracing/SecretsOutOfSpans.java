package io.herald.tracing;

import java.util.Collection;
import java.util.List;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.DelegatingSpanData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * Spans leave Herald without a configured secret URL and without a customer's email address or phone number. Camel's HTTP
 * client spans carry the URL called (http.url), and the ops webhook's URL is a secret (a Slack-style incoming webhook's path
 * is its key): each such value is replaced by a name for it. A failed exchange's span carries the exception's message and
 * stack trace as an event ("550 5.1.1 &lt;jenny@example.org&gt;: Recipient address rejected"): every text of a span and of its
 * events is masked as Herald's logs are (j***@example.org). Done before the spans reach an exporter (the OTLP collector, or
 * one the application defines).
 */
final class SecretsOutOfSpans implements SpanExporter {

    /** A secret and what a span says instead. */
    record Secret(String value, String shownAs) {
    }

    private final SpanExporter delegate;
    private final List<Secret> secrets;

    SecretsOutOfSpans(SpanExporter delegate, List<Secret> secrets) {
        this.delegate = delegate;
        this.secrets = secrets.stream().filter(secret -> secret.value() != null && secret.value().length() > 8).toList();
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
        return delegate.export(spans.stream().map(this::cleaned).toList());
    }

    private SpanData cleaned(SpanData span) {
        Attributes attributes = cleaned(span.getAttributes());
        List<io.opentelemetry.sdk.trace.data.EventData> events = span.getEvents().stream()
                .map(event -> {
                    Attributes kept = cleaned(event.getAttributes());
                    return kept.equals(event.getAttributes()) ? event
                            : io.opentelemetry.sdk.trace.data.EventData.create(event.getEpochNanos(), event.getName(), kept,
                                    event.getTotalAttributeCount());
                }).toList();
        if (attributes.equals(span.getAttributes()) && events.equals(span.getEvents())) {
            return span;
        }
        return new DelegatingSpanData(span) {
            @Override
            public Attributes getAttributes() {
                return attributes;
            }

            @Override
            public List<io.opentelemetry.sdk.trace.data.EventData> getEvents() {
                return events;
            }
        };
    }

    private Attributes cleaned(Attributes attributes) {
        boolean changes = attributes.asMap().values().stream().anyMatch(value -> value instanceof String text && !cleaned(text).equals(text));
        if (!changes) {
            return attributes;
        }
        AttributesBuilder cleaned = Attributes.builder();
        attributes.forEach((key, value) -> put(cleaned, key, value));
        return cleaned.build();
    }

    @SuppressWarnings("unchecked")
    private void put(AttributesBuilder builder, AttributeKey<?> key, Object value) {
        if (value instanceof String text) {
            builder.put((AttributeKey<String>) key, cleaned(text));
        } else {
            builder.put((AttributeKey<Object>) key, value);
        }
    }

    private String cleaned(String text) {
        for (Secret secret : secrets) {
            text = text.replace(secret.value(), secret.shownAs());
        }
        return io.herald.logging.Masking.mask(text);
    }

    @Override
    public CompletableResultCode flush() {
        return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
        return delegate.shutdown();
    }
}
