package io.herald.helpdesk;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import io.herald.config.HelpdeskSettings;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * A note's lease must outlast its post: renewed right before the post, a lease shorter than the helpdesk's connect and
 * response timeouts could run out while the post waits for its answer, and another instance would post the note again.
 * Refused at startup, naming the key and the numbers. (Settings that fit start every test Herald: the local profile.)
 */
class TicketNotesLeaseTest {

    @Test
    void aLeaseShorterThanTheLongestPostIsRefusedNamingTheKeys() {
        HelpdeskSettings settings = new Binder(new MapConfigurationPropertySource(Map.of(
                "herald.helpdesk.enabled", "true", "herald.helpdesk.url", "https://acme.zendesk.example",
                "herald.helpdesk.email", "agent@acme.example", "herald.helpdesk.api-token", "t0ken",
                "herald.helpdesk.connect-timeout-ms", "5000", "herald.helpdesk.response-timeout-ms", "20000",
                "herald.helpdesk.lease-ms", "30000"))).bindOrCreate("herald.helpdesk", HelpdeskSettings.class);
        assertThatThrownBy(() -> new TicketNotes(null, null, null, settings, null))
                .hasMessage("Setting herald.helpdesk.lease-ms (config/application.yaml) must be more than the longest post, 2 x"
                        + " herald.helpdesk.connect-timeout-ms + response-timeout-ms (30000 ms), plus 5000 ms to record it, or another"
                        + " instance may take a note over while it is being posted and post it again; was 30000");
    }
}
