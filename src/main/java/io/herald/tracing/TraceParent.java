package io.herald.tracing;

import java.nio.charset.StandardCharsets;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import org.apache.camel.Exchange;

/**
 * The W3C {@code traceparent} of the work in progress, where Herald carries a trace over a hop Camel's
 * tracing cannot see: a Kafka record read in a batch, or the ledger between intake and a channel's sender
 * (the notification row keeps it, V20). Null while tracing is off.
 */
public final class TraceParent {

    /** The W3C Trace Context header, as Camel's tracing injects it into message headers (and Kafka record headers). */
    public static final String HEADER = "traceparent";

    /** Camel's tracing keeps an exchange's active span in this property (camel-telemetry's SpanStorageManagerExchange). */
    static final String CAMEL_ACTIVE_SPAN = "tracing.activeSpan";

    private TraceParent() {
    }

    /** The current span as a traceparent (00-trace-span-flags), or null when there is no recording trace. */
    public static String current() {
        return of(Span.current());
    }

    static String of(Span span) {
        SpanContext context = span.getSpanContext();
        return context.isValid()
                ? "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex() : null;
    }

    /** A header's value as text: Kafka record headers arrive as bytes. */
    static String text(Object header) {
        if (header instanceof byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        return header instanceof String text && !text.isBlank() ? text : null;
    }

    /**
     * One record of a Kafka batch, split into an exchange of its own: the work done for it from here on continues
     * the record's trace (the webhook that queued it) instead of the batch's. Nothing changes when the record
     * carries no trace.
     */
    public static void continueRecord(Exchange polled, Exchange record) {
        String parent = text(polled.getMessage().getHeader(HEADER));
        if (parent != null) {
            record.removeProperty(CAMEL_ACTIVE_SPAN);
            record.getMessage().setHeader(HEADER, parent);
        }
    }
}
