package io.herald.config;

import java.time.Duration;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.scheduling.*: the durable timer behind scheduled sends (io.herald.schedule), db-scheduler on Herald's PostgreSQL.
 *
 * @param pollInterval      how often each instance looks for scheduled sends that are due: one goes out within about this
 *                          after its time
 * @param threads           scheduled sends fired at once per instance (a firing only queues the deliveries)
 * @param heartbeatInterval how often an instance marks the sends it is firing as alive; one that stopped (kill -9) for four
 *                          intervals has its sends fired again by another instance (once: the firing is a conditional update)
 */
@Validated
@ConfigurationProperties("herald.scheduling")
public record SchedulingSettings(@NotNull @DefaultValue("PT2S") Duration pollInterval,
                                 @Positive @DefaultValue("2") int threads,
                                 @NotNull @DefaultValue("PT30S") Duration heartbeatInterval) {

    public SchedulingSettings {
        positive(pollInterval, "herald.scheduling.poll-interval", "PT2S");
        positive(heartbeatInterval, "herald.scheduling.heartbeat-interval", "PT30S");
    }

    private static void positive(Duration value, String key, String example) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException(key + " must be a positive duration (e.g. " + example + "), was " + value);
        }
    }
}
