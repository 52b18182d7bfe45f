package io.herald.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.herald.ingest.QuarantineRedrive;
import io.herald.ledger.UnroutedEvents;
import io.herald.ledger.UnroutedEvents.Unrouted;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Quarantined source events for operators: list (newest first, by source and status), read one
 * with its raw payload, and re-drive it once the mapping, directory or data is fixed.
 * Ignored events (understood, not for customers) are listed at /api/ignored.
 */
@RestController
@RequestMapping("/api")
public class QuarantineApi {

    private final UnroutedEvents unrouted;
    private final QuarantineRedrive redrive;

    public QuarantineApi(UnroutedEvents unrouted, QuarantineRedrive redrive) {
        this.unrouted = unrouted;
        this.redrive = redrive;
    }

    /** An event in a list: everything but the raw payload (read one to see it). */
    public record Summary(long id, String source, String sourceEventId, String outcome, String step, String reason,
                          String status, int redriveCount, String redriveOutcome, Instant createdAt, Instant updatedAt) {
        static Summary of(Unrouted u) {
            return new Summary(u.id(), u.source(), u.sourceEventId(), u.outcome(), u.step(), u.reason(), u.status(),
                    u.redriveCount(), u.redriveOutcome(), u.createdAt(), u.updatedAt());
        }
    }

    @GetMapping("/quarantine")
    public List<Summary> quarantined(@RequestParam(required = false) String source,
                                      @RequestParam(defaultValue = "OPEN") String status,
                                      @RequestParam(defaultValue = "100") int limit) {
        return unrouted.list("QUARANTINED", source, "ANY".equalsIgnoreCase(status) ? null : status.toUpperCase(), bounded(limit)).stream().map(Summary::of).toList();
    }

    @GetMapping("/ignored")
    public List<Summary> ignored(@RequestParam(required = false) String source,
                                  @RequestParam(defaultValue = "100") int limit) {
        return unrouted.list("IGNORED", source, null, bounded(limit)).stream().map(Summary::of).toList();
    }

    @GetMapping("/quarantine/{id}")
    public ResponseEntity<?> one(@PathVariable long id) {
        return unrouted.find(id).<ResponseEntity<?>>map(ResponseEntity::ok).orElseGet(() -> notFound(id));
    }

    @PostMapping("/quarantine/{id}/redrive")
    public ResponseEntity<?> redrive(@PathVariable long id) {
        return unrouted.find(id).<ResponseEntity<?>>map(event -> {
            try {
                return ResponseEntity.ok(redrive.redrive(event));
            } catch (QuarantineRedrive.NotRedrivable e) {
                return ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error", e.getMessage()));
            }
        }).orElseGet(() -> notFound(id));
    }

    private static int bounded(int limit) {
        return Math.max(1, Math.min(limit, 1000));
    }

    private static ResponseEntity<?> notFound(long id) {
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "no quarantined or ignored event " + id));
    }
}
