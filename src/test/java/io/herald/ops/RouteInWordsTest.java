package io.herald.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The words of a route-stopped alert. send-windows (the late-message sweep) was read as the channel "windows": its alert
 * said "…, 3 windows deliveries waiting. Nothing is lost: they go out once the route runs again".
 */
class RouteInWordsTest {

    @Test
    void onlyHeraldsChannelsAreReadAsChannelsFromARoutesName() {
        assertThat(RouteInWords.channelOf("deliver-sms")).isEqualTo("sms");
        assertThat(RouteInWords.channelOf("send-in-app")).isEqualTo("in_app");
        assertThat(RouteInWords.channelOf("deliver-ops-webhook")).isEqualTo("ops_webhook");
        assertThat(RouteInWords.channelOf("send-windows")).isNull();
        assertThat(RouteInWords.channelOf("deliver-ops-digest")).isNull();
        assertThat(RouteInWords.of("send-windows").stopped()).isEqualTo("messages sent too late are not being flagged or held");
    }
}
