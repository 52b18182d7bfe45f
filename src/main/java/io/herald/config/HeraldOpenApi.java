package io.herald.config;

import java.util.List;
import java.util.Map;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document of Herald's operator API (/api/**), served at /v3/api-docs (JSON) and
 * /swagger-ui.html behind the same login as the console: any Herald account may read it, only
 * OPERATOR and ADMIN may call the API it describes. The answers built from database rows (no Java
 * type of their own) are described here as named schemas the controllers' annotations refer to.
 */
@Configuration(proxyBeanMethods = false)
public class HeraldOpenApi {

    public static final String ERROR = "#/components/schemas/Error";
    public static final String DELIVERY_DETAIL = "#/components/schemas/DeliveryDetail";
    public static final String BULK_RETRY_RESULT = "#/components/schemas/BulkRetryResult";

    @Bean
    OpenAPI heraldApiDocument() {
        return new OpenAPI()
                .info(new Info().title("Herald operator API").version("1")
                        .description("""
                                Failures, notifications with their timeline, deliveries and the operator's actions on them \
                                (retry, dismiss, resend, bulk retry), quarantined events and their re-drive, the weekly review, \
                                and a customer's in-app inbox. Every call authenticates with HTTP Basic (or the console's session) \
                                as an OPERATOR or ADMIN account; actions are audited under that login. Personal contact data in \
                                reasons and recipients is masked."""))
                .components(new Components()
                        .addSecuritySchemes("basicAuth", new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("basic"))
                        .addSchemas("Error", error())
                        .addSchemas("DeliveryDetail", deliveryDetail())
                        .addSchemas("BulkRetryResult", bulkRetryResult()))
                .addSecurityItem(new SecurityRequirement().addList("basicAuth"));
    }

    private static Schema<?> error() {
        return new ObjectSchema().description("Why the request was refused, in words").addRequiredItem("error")
                .addProperty("error", new StringSchema().example("no delivery 4711"))
                .example(Map.of("error", "no delivery 4711"));
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static Schema<?> deliveryDetail() {
        Schema attempt = new ObjectSchema()
                .addProperty("attempted_at", new StringSchema().format("date-time"))
                .addProperty("outcome", new StringSchema().example("PARKED"))
                .addProperty("provider_status", new IntegerSchema().nullable(true).example(503))
                .addProperty("reason", new StringSchema().example("sms provider unavailable: provider answered HTTP 503; parked"));
        Schema resend = new ObjectSchema()
                .addProperty("id", new IntegerSchema().format("int64"))
                .addProperty("resend", new StringSchema().example("2nd resend").description("Its place among this delivery's resends"))
                .addProperty("requested_by", new StringSchema().example("operator"))
                .addProperty("comment", new StringSchema().nullable(true).example("customer asked for a copy"))
                .addProperty("requested_at", new StringSchema().format("date-time"))
                .addProperty("outcome", new StringSchema().nullable(true).example("SENT"))
                .addProperty("reason", new StringSchema().nullable(true));
        return new ObjectSchema().description("One delivery (a notification on one channel) with every attempt and resend")
                .addProperty("id", new IntegerSchema().format("int64").example(4711))
                .addProperty("idempotency_key", new StringSchema().example("billing:invoice.payment_failed:in_1MtHbE:attempt-2"))
                .addProperty("type", new StringSchema().example("billing.payment_failed"))
                .addProperty("customer_id", new StringSchema().example("cus_NffrFeUfNV2Hib"))
                .addProperty("channel", new StringSchema().example("sms")
                        ._enum(List.of("email", "sms", "push", "in_app", "ops_webhook")))
                .addProperty("state", new StringSchema().example("FAILED").description(
                        "PENDING, SENDING, SENT, DELIVERED, BOUNCED, UNDELIVERED, COMPLAINED, RETRYING, PARKED, UNCERTAIN, FAILED, DISMISSED, SKIPPED"))
                .addProperty("reason", new StringSchema().nullable(true)
                        .example("SMS provider rejected +155…0123: not a mobile number; permanent, not retried"))
                .addProperty("recipient_masked", new StringSchema().nullable(true).example("+155…0123"))
                .addProperty("subject", new StringSchema().nullable(true))
                .addProperty("rendered_body", new StringSchema().nullable(true))
                .addProperty("provider_message_id", new StringSchema().nullable(true).example("SM9f1c2d"))
                .addProperty("attempts", new IntegerSchema().example(1))
                .addProperty("parked_count", new IntegerSchema().example(0))
                .addProperty("next_attempt_at", new StringSchema().format("date-time").nullable(true))
                .addProperty("created_at", new StringSchema().format("date-time"))
                .addProperty("sent_at", new StringSchema().format("date-time").nullable(true))
                .addProperty("updated_at", new StringSchema().format("date-time"))
                .addProperty("attempts_log", new ArraySchema().items(attempt))
                .addProperty("resends", new ArraySchema().items(resend));
    }

    private static Schema<?> bulkRetryResult() {
        return new ObjectSchema().description("What a bulk retry did: how many deliveries, the filter in words, each outcome")
                .addProperty("retried", new IntegerSchema().example(2))
                .addProperty("filter", new StringSchema().example("channel=sms, state=FAILED"))
                .addProperty("deliveries", new ArraySchema().items(new Schema<>().$ref("#/components/schemas/Outcome")));
    }
}
