package io.herald.config;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.scheduling.*: the durable timer behind scheduled sends (io.herald.schedule), db-scheduler on Herald's PostgreSQL.
 *
 * @param pollInterval      how often each instance looks for scheduled sends that are due: one goes out within about this
 *                          after its time; at least PT0.1S
 * @param threads           scheduled sends fired at once per instance (a firing only queues the deliveries)
 * @param heartbeatInterval how often an instance marks the sends it is firing as alive; one that stopped (kill -9) for four
 *                          intervals has its sends fired again by another instance (once: the firing is a conditional update)
 * @param defaultTimeZone   the time zone quiet hours are judged in for a customer whose own is unknown (not in the directory,
 *                          or a zone id Java does not know), e.g. Europe/London
 */
@Validated
@ConfigurationProperties("herald.scheduling")
public record SchedulingSettings(@NotNull @DurationMin(millis = 100, message = Durations.AT_LEAST_A_TENTH_OF_A_SECOND) @DefaultValue("PT2S") Duration pollInterval,
                                 @Positive @DefaultValue("2") int threads,
                                 @NotNull @DurationMin(seconds = 1, message = Durations.AT_LEAST_A_SECOND) @DefaultValue("PT30S") Duration heartbeatInterval,
                                 @NotNull @DefaultValue("UTC") String defaultTimeZone) {

    public SchedulingSettings {
        zone(defaultTimeZone);
    }

    /** {@link #defaultTimeZone} as a zone. */
    public ZoneId defaultZone() {
        return zone(defaultTimeZone);
    }

    private static ZoneId zone(String id) {
        try {
            return id == null ? ZoneId.of("UTC") : ZoneId.of(id.strip());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("herald.scheduling.default-time-zone must be a time zone id such as Europe/London or UTC,"
                    + " was '" + id + "'");
        }
    }
}
