package io.herald.tracing;

import java.net.URI;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * herald.tracing.*: OpenTelemetry traces of Herald's routes, exported by OTLP/HTTP only when an endpoint is set
 * (herald.tracing.otlp-endpoint, or the standard OTEL_EXPORTER_OTLP_ENDPOINT); otherwise tracing is off (no-op).
 *
 * @param otlpEndpoint  the collector's OTLP/HTTP base URL (http://otel-collector:4318); /v1/traces is added. Blank: off
 * @param serviceName   service.name of the spans
 * @param samplingRatio share of new traces recorded (0 to 1); a trace begun upstream follows its caller's decision
 * @param excludePatterns Camel endpoints that make no span: periodic polls, which would each start a trace
 */
@org.springframework.validation.annotation.Validated
@ConfigurationProperties("herald.tracing")
public record TracingSettings(String otlpEndpoint, String serviceName,
                              @jakarta.validation.constraints.DecimalMin(value = "0", message = SHARE)
                              @jakarta.validation.constraints.DecimalMax(value = "1", message = SHARE) Double samplingRatio,
                              String excludePatterns) {

    static final String SHARE = "must be a share between 0 and 1 (1: every trace; 0.1: one in ten)";


    public TracingSettings {
        otlpEndpoint = otlpEndpoint == null ? "" : otlpEndpoint.strip();
        serviceName = serviceName == null || serviceName.isBlank() ? "herald" : serviceName.strip();
        // A share outside 0 to 1 is refused by the validation (the box then shows the value and where it was set; a check here
        // named config/application.yaml wherever it was set, and no value).
        samplingRatio = samplingRatio == null ? 1.0 : samplingRatio;
        excludePatterns = excludePatterns == null
                ? "timer:*,seda:*,direct:crm-outbox-claim,direct:failure-alert,direct:signature-failure-alert,direct:receipt-spike-alert,sql:SELECT*,sql:UPDATE*" : excludePatterns;
    }

    /**
     * Checked with the other settings, so that the failure box shows the value and where it was set (a check in the
     * constructor named config/application.yaml wherever the value came from).
     */
    @jakarta.validation.constraints.AssertTrue(message = "herald.tracing.otlp-endpoint must be the collector's OTLP/HTTP base URL,"
            + " e.g. http://otel-collector:4318 (it may be set as OTEL_EXPORTER_OTLP_ENDPOINT too), or blank for no tracing")
    public boolean isOtlpEndpointUsable() {
        if (otlpEndpoint == null || otlpEndpoint.isEmpty()) {
            return true;
        }
        URI uri;
        try {
            uri = URI.create(otlpEndpoint);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return uri.getHost() != null && ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()));
    }

    /** Where spans are posted: the base URL with /v1/traces, as OTEL_EXPORTER_OTLP_ENDPOINT means it. */
    public String tracesUrl() {
        String base = otlpEndpoint.endsWith("/") ? otlpEndpoint.substring(0, otlpEndpoint.length() - 1) : otlpEndpoint;
        return base.endsWith("/v1/traces") ? base : base + "/v1/traces";
    }
}
