package io.herald.tracing;

import java.util.ArrayList;
import java.util.List;

import io.herald.config.OpsWebhookSettings;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import org.apache.camel.CamelContext;
import org.apache.camel.opentelemetry2.OpenTelemetryTracer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Traces of Herald's work through Camel's OpenTelemetry support (camel-opentelemetry2): one trace from the
 * webhook through Kafka, intake, dispatch and the channel's sender to the provider call (W3C traceparent on
 * every Kafka record and HTTP call; kept on the notification row across the ledger). Spans go to the OTLP/HTTP
 * endpoint when one is configured, and to any SpanExporter bean the application defines; with neither,
 * tracing is a no-op: no SDK, no spans, no headers.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TracingSettings.class)
public class HeraldTracing {

    private static final Logger log = LoggerFactory.getLogger(HeraldTracing.class);

    @Bean
    OpenTelemetry heraldOpenTelemetry(TracingSettings settings, ObjectProvider<SpanExporter> exporters, OpsWebhookSettings opsWebhook) {
        List<SecretsOutOfSpans.Secret> secrets = List.of(new SecretsOutOfSpans.Secret(opsWebhook.url(), "(the ops webhook URL, herald.ops-webhook.url)"));
        List<SpanExporter> local = new ArrayList<>(exporters.orderedStream().toList());
        if (settings.otlpEndpoint().isEmpty() && local.isEmpty()) {
            log.info("Tracing is off (herald.tracing.otlp-endpoint / OTEL_EXPORTER_OTLP_ENDPOINT not set)");
            return OpenTelemetry.noop();
        }
        SdkTracerProviderBuilder provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(
                        Attributes.of(AttributeKey.stringKey("service.name"), settings.serviceName()))))
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(settings.samplingRatio())));
        if (!settings.otlpEndpoint().isEmpty()) {
            provider.addSpanProcessor(BatchSpanProcessor.builder(new SecretsOutOfSpans(
                    OtlpHttpSpanExporter.builder().setEndpoint(settings.tracesUrl()).build(), secrets)).build());
            log.info("Tracing: spans exported by OTLP/HTTP to {}", settings.tracesUrl());
        }
        local.forEach(exporter -> provider.addSpanProcessor(SimpleSpanProcessor.create(new SecretsOutOfSpans(exporter, secrets))));
        return OpenTelemetrySdk.builder().setTracerProvider(provider.build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
    }

    /** The tracer Camel's OpenTelemetryTracer finds in the registry. */
    @Bean
    Tracer heraldTracer(OpenTelemetry openTelemetry) {
        return openTelemetry.getTracer("camel");
    }

    /** W3C Trace Context when tracing is on; none when off. */
    @Bean
    ContextPropagators heraldPropagators(OpenTelemetry openTelemetry) {
        return openTelemetry.getPropagators();
    }

    /**
     * Camel's tracing (in place of the starter's, which camel.opentelemetry2.enabled=false turns off), without the
     * senders' timer ticks and queues, which would each start a trace. Installed only when tracing is on: Camel's
     * tracer matches every exchange event against the exclude patterns, which cost the senders a fifth of their CPU
     * even with a no-op OpenTelemetry. (tracer and propagators are parameters so that they exist first: Camel's
     * tracer looks them up in the registry when it starts.)
     */
    @Bean
    CamelTracing camelTracing(CamelContext camel, TracingSettings settings, OpenTelemetry openTelemetry, Tracer tracer,
                              ContextPropagators propagators) {
        if (!(openTelemetry instanceof OpenTelemetrySdk)) {
            return new CamelTracing(null);
        }
        OpenTelemetryTracer tracing = new OpenTelemetryTracer();
        tracing.setExcludePatterns(settings.excludePatterns());
        tracing.init(camel);
        return new CamelTracing(tracing);
    }

    /** Camel's tracer while tracing is on, none while it is off; not a bean of its own, so Camel never installs it by itself. */
    record CamelTracing(OpenTelemetryTracer tracer) {
    }

    /** A span per traced record of a Kafka batch, in the record's trace (see BatchRecordSpans). */
    @Bean
    BatchRecordSpans batchRecordSpans(OpenTelemetry openTelemetry, Tracer tracer, ContextPropagators propagators) {
        return new BatchRecordSpans(openTelemetry instanceof OpenTelemetrySdk, tracer, propagators);
    }
}
