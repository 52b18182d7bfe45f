package io.herald.ingest;

import java.util.List;

import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.stereotype.Component;

/**
 * The "mappings" health: UP, or NOT_RELOADED with the reason of each route file whose live reload was refused because a
 * mapping it names does not compile (MappingReloads). Herald keeps running with the mappings it had, so the overall status
 * stays UP (a status Spring's aggregation does not order is left out of it); an admin sees the refusal in the details.
 */
@Component("mappingsHealthIndicator")
public class MappingReloadsHealth implements HealthIndicator {

    static final Status NOT_RELOADED = new Status("NOT_RELOADED", "a mapping edit was not reloaded; the routes keep the mapping they had");

    private final MappingReloads reloads;

    public MappingReloadsHealth(MappingReloads reloads) {
        this.reloads = reloads;
    }

    @Override
    public Health health() {
        List<MappingReloads.Refusal> refused = reloads.refused();
        if (refused.isEmpty()) {
            return Health.up().build();
        }
        Health.Builder health = Health.status(NOT_RELOADED);
        refused.forEach(r -> health.withDetail(r.routeFile(), r.reason() + " (refused at " + r.at() + ")"));
        return health.build();
    }
}
