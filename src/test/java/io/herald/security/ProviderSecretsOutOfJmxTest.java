package io.herald.security;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.apache.camel.api.management.ManagedCamelContext;
import org.apache.camel.api.management.mbean.ManagedCamelContextMBean;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * What Hawtio shows of the provider endpoints holds none of their secrets: the ops webhook's URL carries its secret in
 * its path (a Slack-style incoming webhook), the SMS URL names the Twilio account, and the SMS, push and helpdesk tokens
 * are credentials. Read as Hawtio reads them, through its Jolokia (every Camel MBean's attributes: endpoints, routes,
 * processors), and as its route diagrams and source views dump them (placeholders resolved). The posts still arrive.
 */
class ProviderSecretsOutOfJmxTest extends HeraldIntegrationTest {

    private static final String OPS_PATH = "/services/T0LOCAL/B0LOCAL/local-demo-ops";
    /** The local profile's secret values (config/application-local.yaml). */
    private static final List<String> SECRETS = List.of("T0LOCAL/B0LOCAL/local-demo-ops", "local-demo-ops", "Accounts/ACdemo",
            "local-demo-sms-token", "local-demo-push-token", "local-demo-helpdesk-token");

    @Autowired
    CamelContext camel;

    @Test
    void hawtiosJolokiaAndRouteDumpsShowNoProviderSecretAndTheOpsWebhookStillGetsItsPosts() throws Exception {
        // Every HTTP channel has called its provider (the endpoints are in use, not only defined).
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(45)).until(() -> infra.providers().findAll(postRequestedFor(urlPathEqualTo(OPS_PATH))
                .withHeader("Idempotency-Key", equalTo(key + ":ops_webhook"))).size() == 1);
        await().atMost(Duration.ofSeconds(45)).until(() -> jdbc.queryForList("SELECT d.channel, d.state FROM delivery d"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?", key), rows -> rows.size() == 3
                && rows.stream().allMatch(r -> "SENT".equals(r.get("state"))));

        // Hawtio's Camel tab: every attribute of every Camel MBean, as its Jolokia serves them to the admin.
        HttpResponse<String> mbeans = apiAs(ADMIN, "GET", "/actuator/hawtio/jolokia/read/"
                + URLEncoder.encode("org.apache.camel:*", StandardCharsets.UTF_8) + "?ignoreErrors=true&maxDepth=4", null);
        assertThat(mbeans.statusCode()).isEqualTo(200);
        assertThat(mbeans.body()).contains("http://ops-webhook", "http://sms", "http://push").doesNotContain(SECRETS);

        // Its route diagrams and source views: the routes and templates dumped as XML, placeholders resolved.
        ManagedCamelContextMBean context = camel.getCamelContextExtension().getContextPlugin(ManagedCamelContext.class)
                .getManagedCamelContext();
        for (Map.Entry<String, String> dump : Map.of(
                "routes as XML", context.dumpRoutesAsXml(true),
                "route templates", context.dumpRouteTemplatesAsXml()).entrySet()) {
            assertThat(dump.getValue()).as(dump.getKey()).contains("ops-webhook").doesNotContain(SECRETS);
        }
        // Metrics name endpoints too, and answer without a login.
        assertThat(apiAs(ADMIN, "GET", "/actuator/prometheus", null).body()).doesNotContain(SECRETS);
        assertThat(camel.getEndpoints()).extracting(e -> e.getEndpointUri()).noneMatch(uri -> SECRETS.stream().anyMatch(uri::contains));
    }
}
