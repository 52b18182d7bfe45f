package io.herald.tracing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.NamedNode;
import org.apache.camel.Route;
import org.apache.camel.spi.RoutePolicy;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.support.RoutePolicySupport;

/**
 * A Kafka batch (camel-kafka batching: the exchange's body is the poll's records) is one exchange, so Camel's
 * tracing gives it one span in a trace of its own. Here each record that carries a trace (its traceparent
 * header, from the webhook or the intake that published it) gets a span of its own in that trace, named for
 * the route (billing-ingest, support-ingest, dispatch), open while the batch is processed and failed if the
 * batch fails. The record's traceparent then names that span, so what is done for the record next (intake's
 * mapping, see {@link TraceParent#continueRecord}) nests beneath it.
 */
class BatchRecordSpans implements RoutePolicyFactory {

    private static final String SPANS = "heraldRecordSpans";
    private static final TextMapGetter<Map<String, String>> MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final boolean tracing;
    private final Tracer tracer;
    private final ContextPropagators propagators;

    BatchRecordSpans(boolean tracing, Tracer tracer, ContextPropagators propagators) {
        this.tracing = tracing;
        this.tracer = tracer;
        this.propagators = propagators;
    }

    @Override
    public RoutePolicy createRoutePolicy(CamelContext camelContext, String routeId, NamedNode route) {
        return new RoutePolicySupport() {
            @Override
            public void onExchangeBegin(Route route, Exchange exchange) {
                begin(route, exchange);
            }

            @Override
            public void onExchangeDone(Route route, Exchange exchange) {
                end(exchange);
            }
        };
    }

    private void begin(Route route, Exchange batch) {
        if (!tracing || !route.getEndpoint().getEndpointUri().startsWith("kafka:") || !(batch.getMessage().getBody() instanceof List<?> records)) {
            return;
        }
        List<Span> spans = new ArrayList<>();
        for (Object item : records) {
            if (item instanceof Exchange record) {
                String parent = TraceParent.text(record.getMessage().getHeader(TraceParent.HEADER));
                if (parent == null) {
                    continue;
                }
                Context upstream = propagators.getTextMapPropagator().extract(Context.root(), Map.of(TraceParent.HEADER, parent), MAP);
                Span span = tracer.spanBuilder(route.getRouteId()).setParent(upstream).setSpanKind(SpanKind.CONSUMER)
                        .setAttribute("messaging.system", "kafka")
                        .setAttribute("messaging.destination.name", route.getEndpoint().getEndpointUri().substring("kafka:".length()).split("\\?")[0])
                        .setAttribute("camel.route", route.getRouteId())
                        .startSpan();
                String own = TraceParent.of(span);
                if (own != null) {
                    record.getMessage().setHeader(TraceParent.HEADER, own);
                }
                spans.add(span);
            }
        }
        if (!spans.isEmpty()) {
            batch.setProperty(SPANS, spans);
        }
    }

    @SuppressWarnings("unchecked")
    private void end(Exchange batch) {
        List<Span> spans = batch.getProperty(SPANS, List.class);
        if (spans == null) {
            return;
        }
        batch.removeProperty(SPANS);
        for (Span span : spans) {
            if (batch.isFailed()) {
                span.setStatus(StatusCode.ERROR, "the batch failed and is read again");
            }
            span.end();
        }
    }
}
