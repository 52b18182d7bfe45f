package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import io.herald.testsupport.HeraldIntegrationTest;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Local profile: Hawtio and Jolokia for the admin, routes visible as MBeans, an edited route file reloaded live. */
class ConsoleAndReloadTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    @Autowired
    ProducerTemplate producer;

    @Test
    void hawtioIsServedAndJolokiaListsTheRouteMBeans() throws Exception {
        HttpResponse<String> hawtio = get("/actuator/hawtio/");
        assertThat(hawtio.statusCode()).isEqualTo(200);
        assertThat(hawtio.body()).containsIgnoringCase("hawtio");

        HttpResponse<String> routes = get("/actuator/jolokia/search/org.apache.camel:type=routes,*");
        assertThat(routes.statusCode()).isEqualTo(200);
        assertThat(routes.body()).contains("name=\\\"support-webhook\\\"", "name=\\\"support-ingest\\\"",
                "name=\\\"dispatch\\\"", "name=\\\"deliver-email\\\"");

        HttpResponse<String> counts = get("/actuator/jolokia/read/org.apache.camel:context=" + camel.getManagementName() + ",type=routes,name=%22support-webhook%22/ExchangesTotal");
        assertThat(counts.statusCode()).isEqualTo(200);
        assertThat(counts.body()).contains("\"value\":");
    }

    @Test
    void anEditedRouteFileIsReloadedWithoutRestart() throws Exception {
        Path probe = ROUTES.resolve("reload-probe.camel.yaml");
        try {
            Files.writeString(probe, probeRoute("first version"));
            await().atMost(Duration.ofSeconds(30)).until(() -> camel.getRoute("reload-probe") != null);
            assertThat(producer.requestBody("direct:reload-probe", "", String.class)).isEqualTo("first version");

            Files.writeString(probe, probeRoute("edited version"));
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                    "edited version".equals(producer.requestBody("direct:reload-probe", "", String.class)));

            // Only the edited file's routes were replaced; the integration routes kept running.
            assertThat(camel.getRouteController().getRouteStatus("support-webhook").isStarted()).isTrue();
            assertThat(camel.getRouteController().getRouteStatus("dispatch").isStarted()).isTrue();
        } finally {
            Files.deleteIfExists(probe);
        }
    }

    private static String probeRoute(String answer) {
        return """
                - route:
                    id: reload-probe
                    description: Probe route written by the reload test
                    from:
                      uri: direct:reload-probe
                      steps:
                        - setBody:
                            constant: "%s"
                """.formatted(answer);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return apiAs(ADMIN, "GET", path, null);
    }
}
