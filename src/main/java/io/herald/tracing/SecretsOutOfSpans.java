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
 * Spans leave Herald without a configured secret URL in their attributes: Camel's HTTP client spans carry the URL called
 * (http.url), and the ops webhook's URL is a secret (a Slack-style incoming webhook's path is its key). Each such value is
 * replaced by a name for it before the spans reach an exporter (the OTLP collector, or one the application defines).
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
        return delegate.export(secrets.isEmpty() ? spans : spans.stream().map(this::withoutSecrets).toList());
    }

    private SpanData withoutSecrets(SpanData span) {
        boolean found = span.getAttributes().asMap().values().stream()
                .anyMatch(value -> value instanceof String text && secrets.stream().anyMatch(secret -> text.contains(secret.value())));
        if (!found) {
            return span;
        }
        AttributesBuilder cleaned = Attributes.builder();
        span.getAttributes().forEach((key, value) -> put(cleaned, key, value));
        Attributes attributes = cleaned.build();
        return new DelegatingSpanData(span) {
            @Override
            public Attributes getAttributes() {
                return attributes;
            }
        };
    }

    @SuppressWarnings("unchecked")
    private void put(AttributesBuilder builder, AttributeKey<?> key, Object value) {
        if (value instanceof String text) {
            for (Secret secret : secrets) {
                text = text.replace(secret.value(), secret.shownAs());
            }
            builder.put((AttributeKey<String>) key, text);
        } else {
            builder.put((AttributeKey<Object>) key, value);
        }
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
