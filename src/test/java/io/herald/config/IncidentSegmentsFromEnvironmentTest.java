package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Segments of customers for incident notices, set the way a container sets them: an environment variable per segment
 * (the Kubernetes ConfigMap). Spring binds HERALD_INCIDENTS_NOTICES_SEGMENTS_EU_CHECKOUT under a name of its own making, so
 * an alert naming the segment "eu-checkout" found nothing and notified nobody; names now compare by letters and digits.
 */
class IncidentSegmentsFromEnvironmentTest {

    @Test
    void aSegmentSetFromTheEnvironmentIsFoundByTheNameTheAlertGives() {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, Map.of(
                        "HERALD_INCIDENTS_NOTICES_SEGMENTS_EU_CHECKOUT", "cus_a,cus_b")));
        IncidentSettings settings = new Binder(ConfigurationPropertySources.get(environment))
                .bind("herald.incidents.notices", IncidentSettings.class).get();

        assertThat(settings.segments()).as("the name Spring binds").containsOnlyKeys("eu.checkout");
        assertThat(settings.segment("eu-checkout")).containsExactly("cus_a", "cus_b");
        assertThat(settings.segment("EU_Checkout")).containsExactly("cus_a", "cus_b");
        assertThat(settings.segment("us-checkout")).isNull();
    }

    @Test
    void aSegmentWrittenInAFileIsFoundAsWritten() {
        IncidentSettings settings = new IncidentSettings("incident.notice", "incident.resolved",
                Map.of("eu-checkout", List.of("cus_a")), 10_000);
        assertThat(settings.segment("eu-checkout")).containsExactly("cus_a");
    }
}
